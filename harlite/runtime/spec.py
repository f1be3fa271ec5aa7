"""The fixed facts of the HAR model's input: labels, channels, rate and windows.

Every other module takes these numbers from here (or from a bundle's manifest, which records
them for the model it holds); no module repeats them as literals.
"""

from __future__ import annotations

#: The six basic activities, in the order of the model's outputs (UCI activity ids 1–6).
ACTIVITY_LABELS: tuple[str, ...] = (
    "WALKING",
    "WALKING_UPSTAIRS",
    "WALKING_DOWNSTAIRS",
    "SITTING",
    "STANDING",
    "LAYING",
)

#: The raw channels a device delivers, in this order: accelerometer in g, gyroscope in rad/s.
RAW_CHANNELS: tuple[str, ...] = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")

#: The model's 9 input channels, in the original notebook's order.
MODEL_CHANNELS: tuple[str, ...] = (
    "body_acc_x",
    "body_acc_y",
    "body_acc_z",
    "body_gyro_x",
    "body_gyro_y",
    "body_gyro_z",
    "total_acc_x",
    "total_acc_y",
    "total_acc_z",
)

N_MODEL_CHANNELS: int = len(MODEL_CHANNELS)

#: Units of the model channels (body and total acceleration in g, angular rate in rad/s).
MODEL_CHANNEL_UNITS: tuple[str, ...] = ("g",) * 3 + ("rad/s",) * 3 + ("g",) * 3

SAMPLE_RATE_HZ: float = 50.0
WINDOW_SAMPLES: int = 128
HOP_SAMPLES: int = 64

#: Windows per model call when classifying files, where the artefact takes a batch (ONNX);
#: a live stream's windows go one by one as they complete.
FILE_BATCH_SIZE = 256
