package org.harlite;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Human-activity recognition on the phone: Android's sensor events in, a {@link Prediction}
 * out for every window of the model (a window of {@link #windowSamples()} samples at {@link
 * #sampleRateHz()}, one every {@link #hopSamples()} samples). The signal path and the model
 * run in harlite's C core (built by CMake from this library's {@code src/main/cpp}), the same
 * computation as {@code harlite stream}; no TensorFlow Lite.
 *
 * <p>Give it the accelerometer ({@code Sensor.TYPE_ACCELEROMETER}: m/s², gravity included)
 * and the gyroscope ({@code Sensor.TYPE_GYROSCOPE}: rad/s) as they come, with their
 * {@code SensorEvent.timestamp} (ns):
 *
 * <pre>{@code
 * override fun onSensorChanged(event: SensorEvent) {
 *     for (p in harlite.onSensorEvent(event.sensor.type, event.timestamp, event.values))
 *         show(p.label, p.confidence)
 * }
 * }</pre>
 *
 * The two sensors arrive at their own instants: the gyroscope is interpolated at each
 * accelerometer instant, so an accelerometer sample waits until a gyroscope sample at or after
 * its time has come (a few milliseconds); one more than 50 ms outside the gyroscope's samples
 * is refused and counted ({@link Stats#getRefusedUnpaired()}). Any rate works (samples are
 * resampled to the model's); register both sensors at {@code SENSOR_DELAY_GAME} or faster.
 *
 * <p><b>One stream per process.</b> The C core keeps its state in one static instance:
 * only one {@code Harlite} may be open at a time (a second one throws {@link
 * IllegalStateException} until the first is {@link #close() closed}). Its methods are
 * synchronized, so sensor callbacks on any thread are safe.
 */
public final class Harlite implements AutoCloseable {
    /** {@code android.hardware.Sensor.TYPE_ACCELEROMETER}. */
    public static final int TYPE_ACCELEROMETER = 1;
    /** {@code android.hardware.Sensor.TYPE_GYROSCOPE}. */
    public static final int TYPE_GYROSCOPE = 4;
    /** A pause longer than this (seconds) restarts the windows, as in {@code harlite stream}. */
    public static final double DEFAULT_MAX_GAP_SECONDS = 0.25;

    /** Where the phone is carried: AUTO finds it from the stream's walking. */
    public enum Placement { AUTO, POCKET, WAIST }

    /** Smoothing over the last predictions (mean of probabilities, or a vote of labels). */
    public enum Smoothing { NONE, MEAN, VOTE }

    private static final Object LOCK = new Object();
    private static boolean taken;
    private static final String[] LABELS;
    private static final double[] SHAPE;

    static {
        System.loadLibrary("harlite_jni");
        LABELS = nativeLabels();
        SHAPE = nativeShape();
    }

    private boolean open;

    /** A stream with the defaults: placement found automatically, no smoothing. */
    public Harlite() {
        this(Placement.AUTO, Smoothing.NONE, 1, DEFAULT_MAX_GAP_SECONDS);
    }

    /**
     * A stream with these settings ({@code harlite stream}'s {@code --placement}, {@code
     * --smooth KIND:SIZE} and the pause that restarts the windows).
     *
     * @throws IllegalArgumentException for a smoothing size outside 1..16 or a bad pause
     * @throws IllegalStateException when another Harlite is open in this process
     */
    public Harlite(Placement placement, Smoothing smoothing, int smoothSize, double maxGapSeconds) {
        synchronized (LOCK) {
            if (taken) {
                throw new IllegalStateException(
                        "another Harlite is open: the C core holds one stream per process;"
                                + " close() it first");
            }
            int status = nativeInit(placement.ordinal(), smoothing.ordinal(), smoothSize,
                    maxGapSeconds);
            if (status != 0) {
                throw new IllegalArgumentException("bad settings: smoothSize must be 1..16 with"
                        + " smoothing, maxGapSeconds > 0 (got " + smoothSize + ", "
                        + maxGapSeconds + ")");
            }
            taken = true;
            open = true;
        }
    }

    /**
     * One {@code SensorEvent}: its {@code sensor.type}, {@code timestamp} (ns) and {@code
     * values}. Other sensor types are ignored (an empty list).
     *
     * @return the predictions of the windows this event completed (usually none, sometimes one)
     * @throws IllegalArgumentException for an accelerometer or gyroscope event without 3 values
     */
    public List<Prediction> onSensorEvent(int sensorType, long timestampNs, float[] values) {
        boolean used = sensorType == TYPE_ACCELEROMETER || sensorType == TYPE_GYROSCOPE;
        if (used && (values == null || values.length < 3)) {
            throw new IllegalArgumentException("sensor type " + sensorType + ": 3 values (x, y, z)"
                    + " expected, got " + (values == null ? "null" : values.length));
        }
        if (sensorType == TYPE_ACCELEROMETER) {
            return onAccelerometer(timestampNs, values[0], values[1], values[2]);
        }
        if (sensorType == TYPE_GYROSCOPE) {
            return onGyroscope(timestampNs, values[0], values[1], values[2]);
        }
        return Collections.emptyList();
    }

    /** An accelerometer sample: m/s², gravity included, Android's axes; timestamp in ns. */
    public List<Prediction> onAccelerometer(long timestampNs, float x, float y, float z) {
        synchronized (LOCK) {
            checkOpen();
            List<Prediction> out = new ArrayList<>(1);
            nativeAccelerometer(timestampNs, x, y, z, out);
            return out;
        }
    }

    /** A gyroscope sample: rad/s, Android's axes; timestamp in ns (the accelerometer's clock). */
    public List<Prediction> onGyroscope(long timestampNs, float x, float y, float z) {
        synchronized (LOCK) {
            checkOpen();
            List<Prediction> out = new ArrayList<>(1);
            nativeGyroscope(timestampNs, x, y, z, out);
            return out;
        }
    }

    /**
     * The sensors stopped: accelerometer samples still waiting take the gyroscope's last value
     * (those more than 50 ms after it are refused). The stream stays open; {@link #reset()}
     * starts a new one.
     */
    public List<Prediction> finish() {
        synchronized (LOCK) {
            checkOpen();
            List<Prediction> out = new ArrayList<>(1);
            nativeFinish(out);
            return out;
        }
    }

    /** A new, unrelated stream with the same settings (after a pause of the listeners, say). */
    public void reset() {
        synchronized (LOCK) {
            checkOpen();
            nativeReset();
        }
    }

    /** What was taken and refused so far in this stream. */
    public Stats getStats() {
        synchronized (LOCK) {
            checkOpen();
            return new Stats(nativeStats());
        }
    }

    /** Frees the process's one stream for another Harlite. */
    @Override
    public void close() {
        synchronized (LOCK) {
            if (open) {
                open = false;
                taken = false;
            }
        }
    }

    /** The model's class names, in the order of {@link Prediction#getProbabilities()}. */
    public static List<String> labels() {
        List<String> names = new ArrayList<>(LABELS.length);
        Collections.addAll(names, LABELS);
        return Collections.unmodifiableList(names);
    }

    /** The model's sample rate (the input is resampled to it). */
    public static double sampleRateHz() {
        return SHAPE[0];
    }

    /** Samples per window. */
    public static int windowSamples() {
        return (int) SHAPE[1];
    }

    /** Samples between the starts of consecutive windows. */
    public static int hopSamples() {
        return (int) SHAPE[2];
    }

    static String labelName(int index) {
        return LABELS[index];
    }

    static int labelCount() {
        return LABELS.length;
    }

    private void checkOpen() {
        if (!open) {
            throw new IllegalStateException("this Harlite is closed");
        }
    }

    private static native int nativeInit(int placement, int smoothKind, int smoothSize,
            double maxGapSeconds);

    private static native void nativeReset();

    private static native void nativeAccelerometer(long timestampNs, float x, float y, float z,
            List<Prediction> out);

    private static native void nativeGyroscope(long timestampNs, float x, float y, float z,
            List<Prediction> out);

    private static native void nativeFinish(List<Prediction> out);

    private static native String[] nativeLabels();

    private static native long[] nativeStats();

    private static native double[] nativeShape();
}
