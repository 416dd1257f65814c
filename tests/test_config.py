import pytest
import yaml

from affectllm.config.schema import Config, apply_overrides, config_from_dict, load_config, save_config
from affectllm.core.errors import ConfigError


def write(tmp_path, data):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_unknown_key_names_the_key_and_suggests(tmp_path):
    p = write(tmp_path, {"model": {"llm": str(tmp_path), "fusion_dimm": 64}})
    with pytest.raises(ConfigError, match=r"unknown config key 'model.fusion_dimm' \(did you mean 'model.fusion_dim'\?\)"):
        load_config(p)


def test_missing_encoder_path_is_one_clear_error(tmp_path):
    p = write(tmp_path, {"model": {"llm": str(tmp_path), "vision_encoder": "./no/such/tower"}})
    with pytest.raises(ConfigError, match=r"model.vision_encoder.*'./no/such/tower'"):
        load_config(p)


def test_wrong_types_and_choices(tmp_path):
    with pytest.raises(ConfigError, match="train.micro_batch_size' must be an integer"):
        config_from_dict({"train": {"micro_batch_size": "four"}})
    with pytest.raises(ConfigError, match="model.prefusion' must be one of none, mix, cross"):
        config_from_dict({"model": {"prefusion": "late"}})
    with pytest.raises(ConfigError, match="must be true or false"):
        config_from_dict({"model": {"train_encoders": "yes"}})


def test_overrides_and_yaml_round_trip(tmp_path):
    (tmp_path / "llm").mkdir()
    p = write(tmp_path, {"model": {"llm": "llm", "prefusion": "none"}, "train": {"lr": 1e-3}})
    cfg = load_config(p, ["train.lr=5e-5", "model.lora.r=4", "data.media.max_fps=2"])
    assert cfg.train.lr == 5e-5 and cfg.model.lora.r == 4 and cfg.data.media.max_fps == 2.0
    assert cfg.model.llm == str((tmp_path / "llm").resolve())  # relative to the YAML's folder
    save_config(cfg, tmp_path / "out.yaml")
    again = load_config(tmp_path / "out.yaml")
    assert again == cfg
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["train.lr"])


def test_validation_of_fusion_shapes():
    cfg = config_from_dict({"model": {"fusion_dim": 100, "fusion_heads": 8}})
    from affectllm.config.schema import validate

    with pytest.raises(ConfigError, match="divisible"):
        validate(cfg)
    assert isinstance(config_from_dict({}), Config)
