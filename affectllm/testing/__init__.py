"""What smoke runs and tests use, kept out of the library's own layers: training runs started and killed as a
preempted node would be (``launch``), and a small manifest of real generated media whose answer needs both
modalities (``smoke_data``). ``make smoke-train`` (``train/smoke.py``) and the test suite share them."""
