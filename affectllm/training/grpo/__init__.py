"""The reinforcement stage: GRPO with verifiable emotion rewards (``train.stage: grpo``).

    affectllm train train/configs/stage3_grpo.yaml                      # one process
    deepspeed --num_gpus 8 train/train.py --config train/configs/stage3_grpo.yaml

Per prompt, G completions are sampled (batched, KV cache), scored by pure reward
functions (``rewards``: emotion-wheel F1, basic-label hit, template format, cue
grounding, valence/arousal), normalised within the group into advantages, and
the policy is updated with the clipped ratio loss plus a KL to the reference
policy (``objective``), which by default is the same model with its LoRA adapter
disabled. ``rollout`` samples and scores, ``loop`` runs the steps with the SFT
trainer's engine, checkpoints and resume, ``reward_eval`` reports held-out
rewards with a few rendered answers, ``setup`` checks settings and data first.

TRL's ``GRPOTrainer`` is not used: it scores completions by calling the model on
``input_ids`` (with a fixed set of image keywords for VLMs; huggingface/trl
``trl/trainer/grpo_trainer.py``, commit d2b69d7, ``_get_per_token_logps_and_entropies``),
and runs inside the transformers ``Trainer``; our model's audio, video and
subtitle features reach the LLM as fused ``inputs_embeds``, and the stage must
share our launcher, checkpoints and exact resume. The step is implemented here.
"""
