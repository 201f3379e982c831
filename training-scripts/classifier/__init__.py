"""Shared pieces of the dog-breed classifier: data loading, models, the train/evaluate loop and the
model directory format. `train.py` (SageMaker), `ec2_train.py` (EC2) and `inference.py` (endpoint) are
thin entry points over this package, so the three run the same code."""
