/* harlite_jni: the JNI side of org.harlite.Harlite (Harlite.java), over harlite_phone.h.
 * Every window a call completes becomes an org.harlite.Prediction added to the list the
 * Java side passes in. The state is the core's one static instance: Harlite.java allows one
 * open instance per process and synchronizes the calls. */
#include <jni.h>
#include <stdint.h>

#include "harlite.h"
#include "harlite_phone.h"

static jclass prediction_class;
static jmethodID prediction_new, list_add;

typedef struct {
    JNIEnv *env;
    jobject list;  /* java.util.List<Prediction>: where this call's windows go */
} collector;

static collector current;

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    JNIEnv *env;
    (void)reserved;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6) != JNI_OK) return JNI_ERR;
    jclass found = (*env)->FindClass(env, "org/harlite/Prediction");
    if (found == NULL) return JNI_ERR;
    prediction_class = (jclass)(*env)->NewGlobalRef(env, found);
    prediction_new = (*env)->GetMethodID(env, found, "<init>", "(JDDIF[FIFI)V");
    jclass list = (*env)->FindClass(env, "java/util/List");
    if (prediction_new == NULL || list == NULL) return JNI_ERR;
    list_add = (*env)->GetMethodID(env, list, "add", "(Ljava/lang/Object;)Z");
    return list_add == NULL ? JNI_ERR : JNI_VERSION_1_6;
}

static void collect(const harlite_result *r, void *user) {
    collector *c = (collector *)user;
    JNIEnv *env = c->env;
    if (env == NULL || c->list == NULL || (*env)->ExceptionCheck(env)) return;
    jfloatArray probabilities = (*env)->NewFloatArray(env, HARLITE_N_LABELS);
    if (probabilities == NULL) return;  /* OutOfMemoryError pending: thrown on return */
    (*env)->SetFloatArrayRegion(env, probabilities, 0, HARLITE_N_LABELS, r->probabilities);
    jobject prediction = (*env)->NewObject(
        env, prediction_class, prediction_new, (jlong)r->index, (jdouble)r->start_time,
        (jdouble)r->end_time, (jint)r->label, (jfloat)r->confidence, probabilities,
        (jint)r->smoothed_label, (jfloat)r->smoothed_confidence, (jint)r->placement);
    if (prediction != NULL) {
        (*env)->CallBooleanMethod(env, c->list, list_add, prediction);
        (*env)->DeleteLocalRef(env, prediction);
    }
    (*env)->DeleteLocalRef(env, probabilities);
}

static void begin(JNIEnv *env, jobject list) {
    current.env = env;
    current.list = list;
}

static void end(void) {
    current.env = NULL;
    current.list = NULL;
}

JNIEXPORT jint JNICALL Java_org_harlite_Harlite_nativeInit(JNIEnv *env, jclass cls,
                                                           jint placement, jint smooth_kind,
                                                           jint smooth_size, jdouble max_gap_s) {
    harlite_config config;
    (void)env;
    (void)cls;
    harlite_default_config(&config);
    config.placement = placement;
    config.smooth_kind = smooth_kind;
    config.smooth_size = smooth_size;
    config.max_gap_s = max_gap_s;
    config.on_window = collect;
    config.user = &current;
    return harlite_phone_init(&config);
}

JNIEXPORT void JNICALL Java_org_harlite_Harlite_nativeReset(JNIEnv *env, jclass cls) {
    (void)env;
    (void)cls;
    harlite_phone_reset();
}

JNIEXPORT void JNICALL Java_org_harlite_Harlite_nativeAccelerometer(
    JNIEnv *env, jclass cls, jlong timestamp_ns, jfloat x, jfloat y, jfloat z, jobject out) {
    (void)cls;
    begin(env, out);
    harlite_android_accelerometer((int64_t)timestamp_ns, x, y, z, NULL);
    end();
}

JNIEXPORT void JNICALL Java_org_harlite_Harlite_nativeGyroscope(
    JNIEnv *env, jclass cls, jlong timestamp_ns, jfloat x, jfloat y, jfloat z, jobject out) {
    (void)cls;
    begin(env, out);
    harlite_android_gyroscope((int64_t)timestamp_ns, x, y, z, NULL);
    end();
}

JNIEXPORT void JNICALL Java_org_harlite_Harlite_nativeFinish(JNIEnv *env, jclass cls,
                                                             jobject out) {
    (void)cls;
    begin(env, out);
    harlite_android_finish(NULL);
    end();
}

JNIEXPORT jobjectArray JNICALL Java_org_harlite_Harlite_nativeLabels(JNIEnv *env, jclass cls) {
    (void)cls;
    jclass string = (*env)->FindClass(env, "java/lang/String");
    if (string == NULL) return NULL;
    jobjectArray labels = (*env)->NewObjectArray(env, HARLITE_N_LABELS, string, NULL);
    for (int k = 0; labels != NULL && k < HARLITE_N_LABELS; k++) {
        jstring name = (*env)->NewStringUTF(env, harlite_labels()[k]);
        if (name == NULL) return NULL;
        (*env)->SetObjectArrayElement(env, labels, k, name);
        (*env)->DeleteLocalRef(env, name);
    }
    return labels;
}

JNIEXPORT jlongArray JNICALL Java_org_harlite_Harlite_nativeStats(JNIEnv *env, jclass cls) {
    harlite_stats core;
    harlite_phone_stats phone;
    (void)cls;
    harlite_get_stats(&core);
    harlite_phone_get_stats(&phone);
    const jlong values[10] = {core.accepted, core.refused_values, core.refused_time, core.gaps,
                              core.resyncs, core.windows, phone.accelerometer, phone.gyroscope,
                              phone.refused_order, phone.refused_unpaired};
    jlongArray out = (*env)->NewLongArray(env, 10);
    if (out != NULL) (*env)->SetLongArrayRegion(env, out, 0, 10, values);
    return out;
}

JNIEXPORT jdoubleArray JNICALL Java_org_harlite_Harlite_nativeShape(JNIEnv *env, jclass cls) {
    (void)cls;
    const jdouble values[3] = {HARLITE_RATE_HZ, HARLITE_WINDOW, HARLITE_HOP};
    jdoubleArray out = (*env)->NewDoubleArray(env, 3);
    if (out != NULL) (*env)->SetDoubleArrayRegion(env, out, 0, 3, values);
    return out;
}
