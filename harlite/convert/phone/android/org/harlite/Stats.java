package org.harlite;

/** What a stream took and refused so far (counts since the stream began). */
public final class Stats {
    private final long[] counts;

    Stats(long[] counts) {
        this.counts = counts;
    }

    /** Samples (accelerometer instants with their gyroscope) the core accepted. */
    public long getAccepted() {
        return counts[0];
    }

    /** Samples refused for a non-finite or implausible value (over 40 g or 50 rad/s). */
    public long getRefusedValues() {
        return counts[1];
    }

    /** Samples refused by the clock guard (a timestamp glitch). */
    public long getRefusedTime() {
        return counts[2];
    }

    /** Pauses longer than the maximum gap (each restarts the windows). */
    public long getGaps() {
        return counts[3];
    }

    /** Times the clock went back for good (a restart of the windows). */
    public long getResyncs() {
        return counts[4];
    }

    /** Windows classified. */
    public long getWindows() {
        return counts[5];
    }

    /** Accelerometer events given. */
    public long getAccelerometerEvents() {
        return counts[6];
    }

    /** Gyroscope events given. */
    public long getGyroscopeEvents() {
        return counts[7];
    }

    /** Events refused because their timestamp did not go forward within their sensor. */
    public long getRefusedOrder() {
        return counts[8];
    }

    /** Accelerometer samples refused with no gyroscope sample around them (no gyroscope, or
     * more than 50 ms outside its samples, or waiting more than 5 s for it). */
    public long getRefusedUnpaired() {
        return counts[9];
    }

    @Override
    public String toString() {
        return "Stats{accepted=" + getAccepted() + ", windows=" + getWindows() + ", refused: values="
                + getRefusedValues() + " time=" + getRefusedTime() + " order=" + getRefusedOrder()
                + " unpaired=" + getRefusedUnpaired() + ", gaps=" + getGaps() + ", resyncs="
                + getResyncs() + "}";
    }
}
