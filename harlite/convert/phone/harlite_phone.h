/* harlite_phone: a phone's sensors as they come, into the harlite core (harlite.h).
 *
 * Android: the accelerometer (TYPE_ACCELEROMETER: m/s^2, gravity included) and the
 * gyroscope (TYPE_GYROSCOPE: rad/s) arrive as separate SensorEvents, each at its own
 * instants (SensorEvent.timestamp, ns). As harlite's runtime does for a phone's recordings
 * and live pushes (harlite/runtime/phone_align.py), the gyroscope is interpolated at each
 * accelerometer instant (numpy.interp: linear, its first or last value held at the edges),
 * so an accelerometer sample waits until a gyroscope sample at or after its time has come.
 * An accelerometer sample more than HARLITE_PHONE_EDGE_MARGIN_S before the gyroscope's first
 * sample (or, at the end, after its last) is refused; one within it takes that sample.
 * A timestamp that does not go forward within its own sensor is refused.
 *
 * iOS: one CMDeviceMotion carries all three vectors at one instant (userAcceleration and
 * gravity in g, rotationRate in rad/s, timestamp in s). Core Motion's acceleration has the
 * opposite sign to Android's (at rest face up, gravity is (0, 0, -1) g; Android's
 * accelerometer reads (0, 0, +9.81) m/s^2); the axes and the rotation rate's sign are the
 * same. The model was trained on Android's convention, so harlite_push_ios feeds
 * -(userAcceleration + gravity) and rotationRate as it is.
 *
 * The state is one static instance, like the core's: one stream per process.
 */
#ifndef HARLITE_PHONE_H
#define HARLITE_PHONE_H

#include <stdint.h>

#include "harlite.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HARLITE_PHONE_EDGE_MARGIN_S 0.05  /* phone_align.py's EDGE_MARGIN_S */
#ifndef HARLITE_PHONE_MAX_WAITING
#define HARLITE_PHONE_MAX_WAITING 1024    /* accelerometer samples waiting for the gyroscope */
#endif
#ifndef HARLITE_PHONE_GYRO_KEPT
#define HARLITE_PHONE_GYRO_KEPT 1024      /* latest gyroscope samples kept to interpolate */
#endif
#define HARLITE_PHONE_MAX_WAIT_S 5.0      /* the longest an accelerometer sample waits */

typedef struct harlite_phone_stats {
    uint32_t accelerometer;     /* accelerometer samples given */
    uint32_t gyroscope;         /* gyroscope samples given */
    uint32_t refused_order;     /* a timestamp not after its sensor's previous one */
    uint32_t refused_unpaired;  /* accelerometer samples with no gyroscope around them */
} harlite_phone_stats;

/* Start (or restart) the core with `config` (NULL: defaults) and forget any waiting
 * samples. Returns harlite_init's answer: 0, or -1 for a bad config. */
int harlite_phone_init(const harlite_config *config);
/* A new, unrelated stream with the same config. */
void harlite_phone_reset(void);

/* Android SensorEvent values. Each returns the number of windows completed (a gyroscope
 * sample can release several waiting accelerometer samples); `result` (may be NULL)
 * receives the last; config.on_window sees each. */
int harlite_android_accelerometer(int64_t timestamp_ns, double x, double y, double z,
                                  harlite_result *result);
int harlite_android_gyroscope(int64_t timestamp_ns, double x, double y, double z,
                              harlite_result *result);
/* The sensors stopped: waiting accelerometer samples take the gyroscope's last value (within
 * the margin; later ones are refused), then harlite_finish(). Returns windows completed. */
int harlite_android_finish(harlite_result *result);

/* One iOS CMDeviceMotion: timestamp [s], userAcceleration and gravity [g, Core Motion's
 * sign], rotationRate [rad/s]. Returns harlite_push's answer. */
int harlite_push_ios(double timestamp_s, double user_x, double user_y, double user_z,
                     double gravity_x, double gravity_y, double gravity_z, double rate_x,
                     double rate_y, double rate_z, harlite_result *result);

void harlite_phone_get_stats(harlite_phone_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
