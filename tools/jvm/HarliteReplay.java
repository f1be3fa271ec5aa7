import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.harlite.Harlite;
import org.harlite.Prediction;

/**
 * Replays a recording through org.harlite.Harlite (JNI, the C core) as Android sensor events,
 * printing one JSON line per window like {@code harlite stream} (tools/check-ports.sh, tests).
 *
 * <pre>java -Djava.library.path=DIR -cp CLASSES HarliteReplay [--placement P] [--smooth K:N] &lt; FILE</pre>
 *
 * FILE on stdin is either a canonical sensor CSV (header t,acc_x,acc_y,acc_z,gyro_x,gyro_y,
 * gyro_z: s, g, rad/s), each row becoming a gyroscope and an accelerometer event at
 * round(t * 1e9) ns with values in m/s² and rad/s as floats (as a SensorEvent has them), or a
 * list of events (header sensor,timestamp_ns,x,y,z; sensor 1 accelerometer, 4 gyroscope) given
 * in that order. A summary goes to stderr.
 */
public final class HarliteReplay {
    private static final double G = 9.80665;
    /** |t| in seconds the core takes (harlite.c), within a long's nanoseconds. */
    private static final double TIME_LIMIT_S = 9e9;

    public static void main(String[] args) throws IOException {
        Harlite.Placement placement = Harlite.Placement.AUTO;
        Harlite.Smoothing smoothing = Harlite.Smoothing.NONE;
        int size = 1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--placement")) {
                placement = Harlite.Placement.valueOf(args[i + 1].toUpperCase(Locale.ROOT));
            } else if (args[i].equals("--smooth")) {
                String[] kind = args[i + 1].split(":");
                smoothing = Harlite.Smoothing.valueOf(kind[0].toUpperCase(Locale.ROOT));
                size = Integer.parseInt(kind[1]);
            } else {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        try (Harlite harlite = new Harlite(placement, smoothing, size, Harlite.DEFAULT_MAX_GAP_SECONDS)) {
            List<String> header = Arrays.asList(in.readLine().trim().split(","));
            if (header.contains("sensor")) {
                replayEvents(in, header, harlite, out);
            } else {
                replayRows(in, header, harlite, out);
            }
            print(harlite.finish(), out);
            System.out.print(out);
            System.err.println(harlite.getStats());
        }
    }

    private static void replayRows(BufferedReader in, List<String> header, Harlite harlite,
            StringBuilder out) throws IOException {
        int[] at = new int[7];
        String[] names = {"t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"};
        for (int c = 0; c < 7; c++) {
            at[c] = header.indexOf(names[c]);
            if (at[c] < 0) {
                throw new IllegalArgumentException("the header has no column " + names[c]);
            }
        }
        int number = 1;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            number++;
            if (line.trim().isEmpty()) {
                continue;
            }
            double[] v = row(line.split(",", -1), at);
            if (v == null) {  // as harlite_stream.c does: reported, skipped
                System.err.println("line " + number + ": not a row of numbers, skipped");
                continue;
            }
            if (!(Math.abs(v[0]) < TIME_LIMIT_S)) {  // no ns timestamp: refused, as the core does
                System.err.println("line " + number + ": time out of range, refused");
                continue;
            }
            long ns = Math.round(v[0] * 1e9);
            print(harlite.onGyroscope(ns, (float) v[4], (float) v[5], (float) v[6]), out);
            print(harlite.onAccelerometer(ns, (float) (v[1] * G), (float) (v[2] * G),
                    (float) (v[3] * G)), out);
        }
    }

    /** The row's 7 numbers (strtod's spellings of NaN and infinity too), null if unreadable. */
    private static double[] row(String[] fields, int[] at) {
        double[] v = new double[7];
        for (int c = 0; c < 7; c++) {
            if (at[c] >= fields.length) {
                return null;
            }
            String text = fields[at[c]].trim().toLowerCase(Locale.ROOT);
            String sign = text.startsWith("-") ? "-" : "";
            String bare = text.replaceFirst("^[+-]", "");
            if (bare.equals("nan")) {
                v[c] = Double.NaN;
            } else if (bare.equals("inf") || bare.equals("infinity")) {
                v[c] = sign.isEmpty() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            } else {
                try {
                    v[c] = Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        return v;
    }

    private static void replayEvents(BufferedReader in, List<String> header, Harlite harlite,
            StringBuilder out) throws IOException {
        int sensor = header.indexOf("sensor");
        int time = header.indexOf("timestamp_ns");
        int x = header.indexOf("x");
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.trim().isEmpty()) {
                continue;
            }
            String[] f = line.split(",");
            float[] values = {number(f[x]), number(f[x + 1]), number(f[x + 2])};
            print(harlite.onSensorEvent(Integer.parseInt(f[sensor]), Long.parseLong(f[time]), values), out);
        }
    }

    private static float number(String text) {
        return (float) Double.parseDouble(text);
    }

    private static void print(List<Prediction> predictions, StringBuilder out) {
        List<String> labels = Harlite.labels();
        for (Prediction p : predictions) {
            out.append(String.format(Locale.ROOT,
                    "{\"window\": %d, \"start_time\": %.6f, \"end_time\": %.6f, \"label\": \"%s\","
                            + " \"confidence\": %.5f, \"probabilities\": {",
                    p.getIndex(), p.getStartTime(), p.getEndTime(), p.getLabel(), p.getConfidence()));
            float[] probabilities = p.getProbabilities();
            for (int k = 0; k < probabilities.length; k++) {
                out.append(k == 0 ? "" : ", ").append('"').append(labels.get(k)).append("\": ")
                        .append(String.format(Locale.ROOT, "%.5f", probabilities[k]));
            }
            out.append('}');
            if (p.getSmoothedLabel() != null) {
                out.append(String.format(Locale.ROOT, ", \"smoothed_label\": \"%s\","
                        + " \"smoothed_confidence\": %.5f", p.getSmoothedLabel(), p.getSmoothedConfidence()));
            }
            if (p.getPlacement() != null) {
                out.append(", \"placement\": \"").append(p.getPlacement()).append('"');
            }
            out.append("}\n");
        }
    }
}
