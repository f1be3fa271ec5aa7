package org.harlite;

import java.util.Arrays;

/**
 * One window's prediction, as a line of {@code harlite stream}: the window's number and times,
 * the label with its confidence and every class's probability, the smoothed label when
 * smoothing is on, and where the phone is carried once known.
 */
public final class Prediction {
    private static final String[] PLACEMENTS = {null, "pocket", "waist"};

    private final long index;
    private final double startTime;
    private final double endTime;
    private final int labelIndex;
    private final float confidence;
    private final float[] probabilities;
    private final int smoothedIndex;
    private final float smoothedConfidence;
    private final int placement;

    Prediction(long index, double startTime, double endTime, int labelIndex, float confidence,
            float[] probabilities, int smoothedIndex, float smoothedConfidence, int placement) {
        this.index = index;
        this.startTime = startTime;
        this.endTime = endTime;
        this.labelIndex = labelIndex;
        this.confidence = confidence;
        this.probabilities = probabilities;
        this.smoothedIndex = smoothedIndex;
        this.smoothedConfidence = smoothedConfidence;
        this.placement = placement;
    }

    /** The window's number in this stream, from 0. */
    public long getIndex() {
        return index;
    }

    /** Time of the window's first sample: seconds on the sensors' clock (timestamp / 1e9). */
    public double getStartTime() {
        return startTime;
    }

    /** Time of the window's last sample, seconds. */
    public double getEndTime() {
        return endTime;
    }

    /** The most probable class, e.g. {@code WALKING}. */
    public String getLabel() {
        return Harlite.labelName(labelIndex);
    }

    /** Its index in {@link Harlite#labels()}. */
    public int getLabelIndex() {
        return labelIndex;
    }

    /** The label's probability. */
    public float getConfidence() {
        return confidence;
    }

    /** Every class's probability, in the order of {@link Harlite#labels()} (a copy). */
    public float[] getProbabilities() {
        return probabilities.clone();
    }

    /** The smoothed label, or null without smoothing. */
    public String getSmoothedLabel() {
        return smoothedIndex < 0 ? null : Harlite.labelName(smoothedIndex);
    }

    /** The smoothed label's confidence (0 without smoothing). */
    public float getSmoothedConfidence() {
        return smoothedConfidence;
    }

    /** {@code "pocket"} or {@code "waist"} once known (or set), else null. */
    public String getPlacement() {
        return placement >= 0 && placement < PLACEMENTS.length ? PLACEMENTS[placement] : null;
    }

    @Override
    public String toString() {
        return "Prediction{" + index + ", " + startTime + "–" + endTime + " s, " + getLabel()
                + " " + confidence + ", " + Arrays.toString(probabilities) + "}";
    }
}
