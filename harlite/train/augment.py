"""Training-time augmentation: the phone worn differently, or carried somewhere else.

Two transforms, applied per window in each batch (``tf.data`` map functions, so every epoch
draws new ones):

- **Small rotations and gain** (``rotation_deg``, ``scale``): the phone worn slightly
  differently, a sensor's gain a little off. Windows recorded at the waist may have their
  own, smaller bound (``waist_rotation_deg``): there, sitting and standing differ only by
  the pelvis's tilt, about 20°.
- **The pocket's symmetries** (with ``placement_aug``): a window recorded in a trouser pocket
  is turned, each epoch, into one of the four ways a phone sits there (as it was, upside
  down: half a turn about the screen's normal, screen facing the other way: half a turn about
  the phone's long axis, or both): real thigh motion in every pocket orientation.
- **The other leg and round the thigh** (``pocket_mirror``, ``thigh_turn_deg``): a pocket
  window mirrored through the phone's ``y``–``z`` plane, as a phone in the other leg's pocket
  sees a gait that is (near enough) the mirror image of this leg's; or turned about the thigh
  (the phone's ``y`` axis), as a phone further round the leg (a side pocket) sees it. A
  rotation of the phone on the thigh, or a mirrored body, is real thigh motion: sound.
- **Faster or slower** (``time_warp``): the same movement performed at another speed, as
  people climb and walk at their own pace. A window is replayed at speed ``s`` drawn from
  ``1 ± time_warp`` (linear interpolation, from a random start within the window and the
  samples that follow it in its recording), and the physics of a motion replayed ``s``
  times faster kept: angular rates scale by ``s``, body accelerations by ``s²``, gravity
  stays. A window with no recorded continuation (the last of its recording or activity) is
  only slowed down; with a small ``hop`` the continuation caps the speed-up.
- **Another placement** (``placement_aug``): a window recorded at the waist (HAPT's phone, in
  its holder with its ``x`` axis along the body) is shown as a phone in a trouser pocket or in
  a hand would see it. Only the body-to-phone rotation changes, never the motion, so only
  what a rotation makes physically true is simulated:

  - *pocket*, still postures only (standing, sitting, lying): the phone's ``y`` axis along the
    thigh, upright or upside down, facing any way around the leg. Standing and lying, the
    thigh is along the body; sitting, it is horizontal, pointing forward: so a sitting window
    is first turned 90° about the body's lateral axis. A still posture is its orientation, so
    this is sound. Moving windows are never shown in a pocket: a thigh swings and a waist
    does not, so a turned waist step is not a pocket step (stairs from a pocket are learnt
    from real pocket recordings alone). Sitting and lying look alike from a pocket: both
    have the thigh horizontal (the runtime's placement rule decides between them:
    :mod:`harlite.runtime.signal.placement`).
  - *hand*, moving classes only (a phone held in front while walking): the screen tilted
    20–80° up from flat, turned any way about the vertical; a quarter of the chosen moving
    windows (the rest stay at the waist). Still postures cannot be told from a phone in a
    hand, so they are not shown in one.

All rotations act on the three xyz triplets of a window (body acceleration, angular rate,
total acceleration) alike.
"""

from __future__ import annotations

import numpy as np

from harlite.runtime.signal.placement import POCKET, WAIST
from harlite.runtime.spec import MODEL_CHANNELS
from harlite.train.config import TrainConfig
from harlite.train.tf_setup import tensorflow

# WAIST: the placement the public data sets' phones had, from which others are simulated;
# POCKET: recordings from a trouser pocket, turned into the pocket's other orientations. The
# names are the runtime's (one source: harlite.runtime.signal.placement).
#: Classes whose windows may be shown in a hand (the body moves; the grip tells nothing).
MOVING_CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS")
#: Classes with the thigh horizontal while the body is upright.
SEATED_CLASSES = ("SITTING",)
#: The share of placement-augmented moving windows shown in a hand (the rest stay as recorded).
HAND_SHARE = 0.25
#: The hand's screen tilt from flat, in degrees.
HAND_TILT_DEG = (20.0, 80.0)

#: Waist frame → pocket frame, upright: the body's axis (waist x) onto the phone's y.
_WAIST_TO_POCKET = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
#: Within the waist frame: the body's axis (x) turned onto the forward axis (z), as the
#: thigh is while seated.
_SEATED = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
#: Upside down in the pocket: half a turn about the screen's normal.
_UPSIDE_DOWN = np.diag([-1.0, -1.0, 1.0])
#: The screen facing the other way: half a turn about the phone's long axis (y).
_FACING_BACK = np.diag([-1.0, 1.0, -1.0])


def _mirror_sign(channel: str) -> float:
    """A model channel's sign in the mirror image through the phone's y–z plane:
    accelerations are vectors (``x`` turns), angular rates axial vectors (``y``, ``z`` turn)."""
    along_x = channel.endswith("_x")
    flips = not along_x if "gyro" in channel else along_x
    return -1.0 if flips else 1.0


_MIRROR_SIGNS = np.array([_mirror_sign(name) for name in MODEL_CHANNELS], dtype=np.float32)


def rotation(axis, angle):
    """Rotation matrices (b, 3, 3) about unit ``axis`` (b, 3) by ``angle`` (b,) (Rodrigues)."""
    tf = tensorflow()
    batch = tf.shape(axis)[0]
    zero = tf.zeros((batch,))
    a0, a1, a2 = axis[:, 0], axis[:, 1], axis[:, 2]
    k = tf.reshape(tf.stack([zero, -a2, a1, a2, zero, -a0, -a1, a0, zero], 1), (-1, 3, 3))
    angle = tf.reshape(angle, (-1, 1, 1))
    return (
        tf.eye(3, batch_shape=[batch]) + tf.sin(angle) * k + (1 - tf.cos(angle)) * tf.matmul(k, k)
    )


def rotate_windows(x, matrices):
    """Every xyz triplet of windows ``x`` (b, t, 9) turned by its window's matrix (b, 3, 3)."""
    tf = tensorflow()
    triplets = tf.reshape(x, (tf.shape(x)[0], -1, 3, 3))
    return tf.reshape(tf.einsum("bij,btkj->btki", matrices, triplets), tf.shape(x))


def _class_mask(labels: tuple[str, ...], names: tuple[str, ...]) -> np.ndarray:
    return np.array([label in names for label in labels], dtype=bool)


def placement_rotations(y, from_waist, config: TrainConfig):
    """Per window (b, 3, 3): identity, or the rotation that shows a waist window as seen
    from a pocket (still postures) or a hand (moving ones, :data:`HAND_SHARE` of them), with
    probability ``config.placement_aug`` for waist windows."""
    tf = tensorflow()
    batch = tf.shape(y)[0]
    moving = tf.gather(tf.constant(_class_mask(config.labels, MOVING_CLASSES)), y)
    seated = tf.gather(tf.constant(_class_mask(config.labels, SEATED_CLASSES)), y)
    moved = from_waist & (tf.random.uniform((batch,)) < config.placement_aug)
    in_hand = moved & moving & (tf.random.uniform((batch,)) < HAND_SHARE)

    eye = tf.eye(3, batch_shape=[batch])
    body = tf.where(seated[:, None, None], tf.constant(_SEATED, tf.float32), eye)
    flip = tf.where(
        (tf.random.uniform((batch,)) < 0.5)[:, None, None],
        tf.constant(_UPSIDE_DOWN, tf.float32),
        eye,
    )
    around_leg = rotation(
        tf.tile(tf.constant([[0.0, 1.0, 0.0]]), (batch, 1)),
        tf.random.uniform((batch,), 0, 2 * np.pi),
    )
    pocket = around_leg @ flip @ tf.constant(_WAIST_TO_POCKET, tf.float32) @ body

    tilt = tf.random.uniform((batch,), *np.deg2rad(HAND_TILT_DEG))
    zero = tf.zeros((batch,))
    up = tf.stack([zero, tf.sin(tilt), tf.cos(tilt)], 1)  # where the body's axis goes
    onto_up = rotation(tf.stack([zero, -tf.cos(tilt), tf.sin(tilt)], 1), zero + np.pi / 2)
    hand = rotation(up, tf.random.uniform((batch,), 0, 2 * np.pi)) @ onto_up

    to_pocket = moved & ~moving
    return tf.where(in_hand[:, None, None], hand, tf.where(to_pocket[:, None, None], pocket, eye))


def pocket_flips(in_pocket):
    """Per window (b, 3, 3): for pocket windows, one of the four orientations a phone takes in
    a pocket (each half turn with probability 1/2); identity for the others."""
    tf = tensorflow()
    batch = tf.shape(in_pocket)[0]
    eye = tf.eye(3, batch_shape=[batch])

    def maybe(matrix):
        flip = in_pocket & (tf.random.uniform((batch,)) < 0.5)
        return tf.where(flip[:, None, None], tf.constant(matrix, tf.float32), eye)

    return maybe(_UPSIDE_DOWN) @ maybe(_FACING_BACK)


#: Per model channel, the power of the replay speed it scales with (time_warp): body
#: accelerations 2, angular rates 1, total accelerations 0 (plus their body part, below).
_SPEED_POWER = np.array(
    [2.0 if c.startswith("body_acc") else 1.0 if "gyro" in c else 0.0 for c in MODEL_CHANNELS],
    dtype=np.float32,
)
#: (9, 9): 1 from each body acceleration channel to the total acceleration of its axis.
_BODY_IN_TOTAL = np.array(
    [
        [a.startswith("body_acc") and b == a.replace("body", "total") for b in MODEL_CHANNELS]
        for a in MODEL_CHANNELS
    ],
    dtype=np.float32,
)


def with_continuations(windows, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window followed by the ``hop`` samples after it in its recording, (n, window +
    hop, 9), and whether it had them (n,): taken from the window of the same recording and
    class that starts ``hop`` samples later, where the two agree on their overlap (zeros
    and False elsewhere)."""
    X = windows.X
    n, window = X.shape[:2]
    extended = np.zeros((n, window + hop, X.shape[2]), np.float32)
    extended[:, :window] = X
    found = np.zeros(n, bool)
    known = windows.start >= 0
    index = {
        key: i
        for i, key in enumerate(
            zip(windows.subject, windows.experiment, windows.y, windows.start, strict=True)
        )
        if known[i]
    }
    for i in np.flatnonzero(known):
        key = (windows.subject[i], windows.experiment[i], windows.y[i], windows.start[i] + hop)
        j = index.get(key)
        if j is not None and np.array_equal(X[j][: window - hop], X[i][hop:]):
            extended[i, window:] = X[j][window - hop :]
            found[i] = True
    return extended, found


def replayable(windows, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`augmenter` draws from: the windows, and whether each is continued; with
    ``config.time_warp``, each followed by its recording's next samples
    (:func:`with_continuations`)."""
    if config.time_warp:
        return with_continuations(windows, config.hop)
    return windows.X, np.zeros(len(windows), bool)


def time_warped(x, continued, max_change: float, window: int):
    """Windows ``x`` (b, window + hop, 9) replayed at a random speed in ``1 ± max_change``
    (slower only where ``continued`` is False): (b, window, 9)."""
    tf = tensorflow()
    batch, available = tf.shape(x)[0], tf.shape(x)[1]
    usable = tf.where(continued, tf.cast(available, tf.float32), float(window))
    speed = tf.random.uniform((batch,), 1 - max_change, 1 + max_change)
    speed = tf.minimum(speed, (usable - 1) / (window - 1))
    start = tf.random.uniform((batch,)) * (usable - 1 - speed * (window - 1))
    at = start[:, None] + speed[:, None] * tf.range(window, dtype=tf.float32)[None, :]
    below = tf.cast(tf.floor(at), tf.int32)
    above = tf.minimum(below + 1, tf.cast(usable, tf.int32)[:, None] - 1)
    share = (at - tf.floor(at))[..., None]
    lo, hi = tf.gather(x, below, batch_dims=1), tf.gather(x, above, batch_dims=1)
    replayed = lo + (hi - lo) * share
    # total acceleration = gravity (kept) + the body's acceleration (scaled by s², as it is)
    power = speed[:, None] ** _SPEED_POWER[None, :]
    gain = tf.linalg.diag(power) + (speed**2 - 1)[:, None, None] * _BODY_IN_TOTAL[None]
    return tf.einsum("btc,bcd->btd", replayed, gain)


def mirror_windows(x, chosen):
    """Windows ``x`` (b, t, 9), those where ``chosen`` (b,) holds mirrored through the
    phone's y–z plane (the other leg's pocket)."""
    tf = tensorflow()
    signs = tf.where(chosen[:, None], tf.constant(_MIRROR_SIGNS), tf.ones_like(_MIRROR_SIGNS))
    return x * signs[:, None, :]


def thigh_turns(in_pocket, max_deg: float):
    """Per window (b, 3, 3): for pocket windows, a turn about the phone's y axis (the
    thigh's) by up to ±``max_deg``; identity for the others."""
    tf = tensorflow()
    batch = tf.shape(in_pocket)[0]
    limit = np.deg2rad(max_deg)
    angle = tf.random.uniform((batch,), -limit, limit) * tf.cast(in_pocket, tf.float32)
    return rotation(tf.tile(tf.constant([[0.0, 1.0, 0.0]]), (batch, 1)), angle)


def augmenter(config: TrainConfig):
    """A tf.data map function over batches (x, y, placement[, continued]) → (x, y): ``x``
    the windows, or with ``continued`` the windows followed by their recording's next
    samples (:func:`with_continuations`) to replay faster or slower; another placement
    for some waist windows; for pocket windows, the other leg, a turn about the thigh and the
    pocket's symmetries; then a small random rotation and gain for every window."""
    tf = tensorflow()
    max_angle = np.deg2rad(config.rotation_deg)
    max_waist_angle = np.deg2rad(config.waist_rotation_deg or 0.0)

    def augment(x, y, placement, continued=None):
        batch = tf.shape(x)[0]
        in_pocket = tf.equal(placement, POCKET)
        if config.time_warp:
            if continued is None:
                continued = tf.zeros((batch,), tf.bool)
            x = time_warped(x, continued, config.time_warp, config.window)
        if config.pocket_mirror:
            x = mirror_windows(x, in_pocket & (tf.random.uniform((batch,)) < config.pocket_mirror))
        if config.thigh_turn_deg:
            x = rotate_windows(x, thigh_turns(in_pocket, config.thigh_turn_deg))
        if config.placement_aug:
            turns = placement_rotations(y, tf.equal(placement, WAIST), config)
            x = rotate_windows(x, turns @ pocket_flips(in_pocket))
        if config.rotation_deg or config.waist_rotation_deg:
            axis = tf.math.l2_normalize(tf.random.normal((batch, 3)), axis=-1)
            if config.waist_rotation_deg is None:
                angle = tf.random.uniform((batch,), -max_angle, max_angle)
            else:
                at_waist = tf.equal(placement, WAIST)
                bound = tf.where(at_waist, np.float32(max_waist_angle), np.float32(max_angle))
                angle = tf.random.uniform((batch,), -1.0, 1.0) * bound
            x = rotate_windows(x, rotation(axis, angle))
        if config.scale:
            x = x * tf.random.uniform((batch, 1, 1), 1 - config.scale, 1 + config.scale)
        return x, y

    # Plain tensor code (no Python control flow on tensors): nothing for AutoGraph to convert.
    return tf.autograph.experimental.do_not_convert(augment)


def balance_weights(windows, balance: float) -> np.ndarray:
    """Per window, its loss weight: its (placement, class) group's window count to the power
    ``-balance``, scaled to a mean of 1 (all ones for ``balance`` 0)."""
    _, index, counts = np.unique(windows.groups(), return_inverse=True, return_counts=True)
    weights = counts[index].astype(np.float64) ** -balance
    return (weights / weights.mean()).astype(np.float32)


def training_dataset(windows, config: TrainConfig):
    """The shuffled, batched, augmented ``tf.data`` pipeline of a WindowSet: (x, y), or
    (x, y, weight) with ``config.balance``."""
    tf = tensorflow()
    x, continued = replayable(windows, config)
    weights = balance_weights(windows, config.balance)
    parts = (x, windows.y, windows.placement, continued, weights)
    data = tf.data.Dataset.from_tensor_slices(parts)
    data = data.shuffle(len(windows), seed=config.seed, reshuffle_each_iteration=True)
    augment = augmenter(config)
    if config.balance:
        data = data.batch(config.batch_size).map(lambda x, y, p, c, w: (*augment(x, y, p, c), w))
    else:
        data = data.batch(config.batch_size).map(lambda x, y, p, c, w: augment(x, y, p, c))
    return data.prefetch(2)
