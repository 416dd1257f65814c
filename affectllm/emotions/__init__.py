"""Emotion vocabulary (canonical words, Plutchik-style families, valence) and free-text extraction.

>>> from affectllm.emotions import default_vocabulary, extract_emotions
>>> default_vocabulary().normalize(" Frustration ")
'frustrated'
>>> extract_emotions("She seems slightly anxious but clearly not angry; frustration builds.")
['anxious', 'frustrated']
"""

from affectllm.emotions.extract import (
    EmotionMention, ExtractedEmotion, extract_emotions, extract_labels, extract_mentions, extract_scored,
)
from affectllm.emotions.vocabulary import EmotionVocabulary, default_vocabulary, load_vocabulary, surface_key

__all__ = [
    "EmotionMention", "EmotionVocabulary", "ExtractedEmotion", "default_vocabulary", "extract_emotions",
    "extract_labels", "extract_mentions", "extract_scored", "load_vocabulary", "surface_key",
]
