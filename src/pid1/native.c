/*
 * The libc calls the reaper needs and Node does not offer, as a Node-API addon: a whole pass of
 * the reaper in one call (reapBatch: waitid with WNOWAIT to see the next zombie without reaping
 * it, then waitpid on that pid; a pass of 1,024 zombies driven from JavaScript cost 2,048 calls
 * across the boundary and a loop V8 had to compile while the zombies waited), and
 * prctl(PR_SET_CHILD_SUBREAPER) / PR_GET_CHILD_SUBREAPER.
 *
 * Why not only koffi (src/pid1/native.ts falls back to it): loading koffi costs a start about
 * 7 MiB of memory and several milliseconds (bench/startup/README.md); this addon costs under
 * 0.5 MiB. Node-API is ABI-stable, so the addon built once works with any Node >= 22. The few
 * Node-API declarations it uses are written out below (they are the stable C ABI of
 * node_api.h), so building it needs only a C compiler and libc's headers: scripts/build.mjs
 * runs `cc` and goes on without it when there is none.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);
extern napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result);
extern napi_status napi_get_boolean(napi_env env, int value, napi_value *result);
extern napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_get_value_int32(napi_env env, napi_value value, int32_t *result);
extern napi_status napi_get_typedarray_info(napi_env env, napi_value typedarray, int *type, size_t *length, void **data, napi_value *arraybuffer,
                                            size_t *byte_offset);
#define NAPI_INT32_ARRAY 5 /* napi_int32_array in napi_typedarray_type */

static napi_value int32(napi_env env, int32_t value) {
  napi_value result = NULL;
  napi_create_int32(env, value, &result);
  return result;
}

static napi_value boolean(napi_env env, int value) {
  napi_value result = NULL;
  napi_get_boolean(env, value, &result);
  return result;
}

/* An Int32Array argument's elements and length; 0 if it is not one. */
static int int32_array(napi_env env, napi_value value, int32_t **data, size_t *length) {
  int type = -1;
  void *raw = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != 0 || type != NAPI_INT32_ARRAY) return 0;
  *data = raw;
  return 1;
}

/*
 * reapBatch(owned, out): reap zombie children one after another, in one call: look at the next
 * zombie without reaping it (waitid with WNOWAIT), stop if its pid is in `owned` (Int32Array:
 * libuv reaps those), else reap that pid (waitpid); stop when there is none left, or when `out`
 * (Int32Array) is full. Each reaped child's pid and raw wait
 * status go into `out` in pairs. Returns how many were reaped, or ~count (a negative number) when
 * it stopped at an owned zombie; ~0 also when the arguments are not Int32Arrays (nothing reaped).
 */
static napi_value reap_batch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t *owned = NULL, *out = NULL;
  size_t owned_length = 0, out_length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 2 || !int32_array(env, argv[0], &owned, &owned_length) ||
      !int32_array(env, argv[1], &out, &out_length))
    return int32(env, ~0);
  int32_t count = 0;
  while ((size_t)count * 2 + 1 < out_length) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid <= 0) break;
    for (size_t i = 0; i < owned_length; i++)
      if (owned[i] == si.si_pid) return int32(env, ~count);
    int status = 0;
    if (waitpid(si.si_pid, &status, WNOHANG) != si.si_pid) break;
    out[count * 2] = si.si_pid;
    out[count * 2 + 1] = status;
    count++;
  }
  return int32(env, count);
}

static napi_value set_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  return boolean(env, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
}

static napi_value is_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  int value = 0;
  return boolean(env, prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) == 0 && value == 1);
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn = NULL;
  if (napi_create_function(env, name, strlen(name), cb, NULL, &fn) == 0) napi_set_named_property(env, exports, name, fn);
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  define(env, exports, "reapBatch", reap_batch);
  define(env, exports, "setSubreaper", set_subreaper);
  define(env, exports, "isSubreaper", is_subreaper);
  return exports;
}

/* The Node-API version this addon is written against (8: Node >= 12.22). */
__attribute__((visibility("default"))) int32_t node_api_module_get_api_version_v1(void) { return 8; }
