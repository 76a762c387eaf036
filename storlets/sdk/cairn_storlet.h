/*
 * cairn_storlet.h - the C SDK for Cairn storlets (libcairnstorlet.a).
 *
 * A storlet is a program the storlet engine starts with fixed file
 * descriptors (docs/storlets.md is the ABI; this SDK is one reading of it):
 *   0 input stream, 1 output stream, 2 log, 3 metadata channel
 *   (invocation document in, output metadata out), 4 services channel,
 *   5.. extra inputs.
 * The SDK reads the invocation document, gives access to parameters and
 * metadata, sends the output metadata before the first output byte, and
 * speaks the services protocol. A whole storlet:
 *
 *     int main(void)
 *     {
 *         struct storlet *s = storlet_start();
 *         char buf[65536];
 *         ssize_t n;
 *         while ((n = storlet_read(s, buf, sizeof(buf))) > 0)
 *             if (storlet_write(s, buf, (size_t)n) < 0)
 *                 storlet_fail(s, STORLET_EXIT_FAILED, "write: broken output");
 *         if (n < 0)
 *             storlet_fail(s, STORLET_EXIT_FAILED, "read input failed");
 *         return storlet_finish(s);
 *     }
 *
 * Self-contained: depends on libc and Jansson only (the storlet binaries link
 * both statically), not on the rest of Cairn. Exported names carry the
 * prefix storlet_ / STORLET_.
 *
 * Threading: one struct storlet per process, used by one thread at a time.
 */
#ifndef CAIRN_STORLET_H
#define CAIRN_STORLET_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The interface version this SDK implements (invocation "interface_version"). */
#define STORLET_INTERFACE_VERSION "1.0"

/* Fixed descriptor numbers (the same as the sandbox's enum sbx_fd). */
enum storlet_fd {
    STORLET_FD_INPUT = 0,
    STORLET_FD_OUTPUT = 1,
    STORLET_FD_LOG = 2,
    STORLET_FD_META = 3,
    STORLET_FD_SERVICES = 4,
    STORLET_FD_EXTRA = 5,
};

/* Exit codes with a meaning to the engine (docs/storlets.md, "Exit codes"). */
enum storlet_exit {
    STORLET_EXIT_OK = 0,
    STORLET_EXIT_FAILED = 1,      /* any failure: 500 before output */
    STORLET_EXIT_BAD_PARAM = 64,  /* parameters rejected: 400 before output */
    STORLET_EXIT_BAD_INPUT = 65,  /* input not in a form the storlet takes: 422 */
    STORLET_EXIT_PROTOCOL = 70,   /* the ABI was not honoured (bad document) */
};

/* Frame limits (4-byte big-endian length + JSON object). */
#define STORLET_DOC_MAX (1u << 20)   /* engine -> storlet */
#define STORLET_FRAME_MAX (64u << 10) /* storlet -> engine */

struct storlet;

/*
 * Reads the invocation document from fd 3 and returns the invocation.
 * On any failure (no fd 3, malformed frame or JSON, an interface version
 * this SDK does not know) it logs the reason on fd 2 and exits with
 * STORLET_EXIT_PROTOCOL: a storlet cannot do anything useful without it.
 * Never returns NULL. Call once.
 */
struct storlet *storlet_start(void);

/*
 * The parameter `key` (from X-Storlet-Parameter-N or the query string),
 * or NULL when absent. Borrowed: valid until storlet_finish().
 */
const char *storlet_param(const struct storlet *s, const char *key);
/* storlet_param() or `dflt` when absent. */
const char *storlet_param_or(const struct storlet *s, const char *key, const char *dflt);
/*
 * Parameter as an unsigned decimal: *out = dflt when absent. Returns 0, or
 * -EINVAL when present but not a whole decimal number (caller reports it).
 */
int storlet_param_u64(const struct storlet *s, const char *key, uint64_t dflt,
                      uint64_t *out);
/*
 * Parameter as a boolean ("true|yes|1|on" / "false|no|0|off", any case):
 * *out = dflt when absent. Returns 0 or -EINVAL.
 */
int storlet_param_bool(const struct storlet *s, const char *key, bool dflt, bool *out);

/*
 * User metadata of input `idx` (0 = the object, 1.. = extra inputs), key
 * without the X-Object-Meta- prefix, matched case-insensitively; NULL when
 * absent. Borrowed.
 */
const char *storlet_input_meta(const struct storlet *s, unsigned idx, const char *key);
/* Number of inputs (1 + extra inputs). */
unsigned storlet_input_count(const struct storlet *s);

/*
 * The whole invocation document (borrowed reference; valid until
 * storlet_finish()). For facts without an accessor:
 * json_string_value(json_object_get(json_object_get(doc, "request"), "method")).
 */
json_t *storlet_doc(const struct storlet *s);
/* request.<key> (method, account, container, object, ...) as a string or NULL. */
const char *storlet_request(const struct storlet *s, const char *key);

/*
 * Reads up to n bytes of the main input (fd 0) / of input `idx`. Retries on
 * EINTR. Returns bytes read, 0 at the end, or -errno.
 */
ssize_t storlet_read(struct storlet *s, void *buf, size_t n);
ssize_t storlet_read_input(struct storlet *s, unsigned idx, void *buf, size_t n);
/*
 * Input `idx` as a buffered stdio stream (for getline() and friends);
 * owned by s, closed by storlet_finish(). Do not mix with storlet_read()
 * on the same input. NULL with errno set on failure.
 */
FILE *storlet_input_file(struct storlet *s, unsigned idx);

/*
 * For merge storlets: the merge stream of a Distributed request on the
 * main input (docs/compound-storlets.md section 2.3). Each ends the
 * storlet, with STORLET_EXIT_BAD_INPUT and a reason naming `what` when the
 * stream is short or malformed, STORLET_EXIT_FAILED when reading fails:
 *   storlet_read_exact   exactly n bytes into buf;
 *   storlet_read_u32     a 4-byte big-endian length (a frame's, a chunk's);
 *   storlet_merge_frame  the next frame (a part's or the end), a new JSON
 *                        object (json_decref it) of 1 to
 *                        STORLET_MERGE_FRAME_MAX bytes.
 */
#define STORLET_MERGE_FRAME_MAX (1u << 20)
void storlet_read_exact(struct storlet *s, void *buf, size_t n, const char *what);
uint32_t storlet_read_u32(struct storlet *s, const char *what);
json_t *storlet_merge_frame(struct storlet *s);

/*
 * The merge stream a part at a time, with every check section 2.3 asks of
 * a merge done here:
 *
 *   struct storlet_part p;
 *   while (storlet_merge_next(s, &p)) {
 *       ... storlet_merge_read(s, buf, n) until it returns 0 ...
 *   }
 *
 * storlet_merge_next moves to the next part (skipping what was not read
 * of the current one) and returns 1 with *part filled, or 0 at the end
 * frame once the stream is known to be whole: exactly as many parts as
 * the end frame says, with distinct indexes below that number. Anything
 * else ends the storlet with STORLET_EXIT_BAD_INPUT and a reason (a bad
 * frame, an index >= STORLET_MERGE_PARTS_MAX, a part twice, a part
 * missing, a cut stream). part->path and part->frame (the whole part
 * frame: "metadata", "content_type") are borrowed until the next call.
 * storlet_merge_count() is the number of parts (valid after the end).
 *
 * storlet_merge_read reads up to n bytes of the current part; 0 at its
 * end. storlet_merge_read_whole reads the rest of the part into buf and
 * returns its length, ending the storlet (exit 65, naming the part's
 * object) when it holds more than cap bytes.
 */
#define STORLET_MERGE_PARTS_MAX 100000u
struct storlet_part {
    size_t index;       /* the resource's index in the request */
    const char *path;   /* its container/object */
    json_t *frame;      /* the part frame */
};
int storlet_merge_next(struct storlet *s, struct storlet_part *part);
size_t storlet_merge_read(struct storlet *s, void *buf, size_t n);
size_t storlet_merge_read_whole(struct storlet *s, void *buf, size_t cap);
size_t storlet_merge_count(const struct storlet *s);

/*
 * For image storlets: reads the header of a binary PGM (P5) or PPM (P6)
 * image from `in` up to its first sample byte. Fills *img, or ends the
 * storlet with STORLET_EXIT_BAD_INPUT and a reason ("not a binary PGM/PPM
 * image (P5 or P6 expected)", "PNM width ... too large", "PNM image of size
 * 0x5", "PNM maxval 0 not in 1..65535", ...) when the header is not one.
 * Width and height are 1..10^9; samples take 1 byte (maxval <= 255) or 2
 * (big-endian).
 */
struct storlet_pnm {
    int kind;                  /* 5 (PGM, grey) or 6 (PPM, RGB) */
    uint64_t width, height, maxval;
    unsigned channels;         /* 1 or 3 */
    unsigned bytes_per_sample; /* 1 or 2 */
};
void storlet_pnm_header(struct storlet *s, FILE *in, struct storlet_pnm *img);

/*
 * Output metadata, sent as one frame before the first output byte. Keys
 * without the X-Object-Meta- prefix. Returns 0, -EALREADY once output has
 * started (metadata was sent), -EINVAL for a key or value the engine would
 * refuse (empty key, control characters, key > 128 or value > 256 bytes).
 */
int storlet_set_meta(struct storlet *s, const char *key, const char *value);
/* Content-Type of the output. Same returns as storlet_set_meta(). */
int storlet_set_content_type(struct storlet *s, const char *content_type);

/*
 * Sends the output metadata now, if not sent yet (storlet_write() and
 * storlet_finish() do it on their own). Returns 0 or -errno.
 */
int storlet_send_meta(struct storlet *s);

/*
 * Writes all n bytes to the output (fd 1), sending the metadata first if it
 * was not sent. Returns 0 or -errno (-EPIPE: the reader went away).
 */
int storlet_write(struct storlet *s, const void *buf, size_t n);
/*
 * Copies the rest of the main input (fd 0) to the output (fd 1), sending
 * the metadata first if it was not sent: a pass-through storlet's whole
 * job in one call. When fd 1 is a pipe (as the engine gives it) the bytes
 * move with splice(2) and never enter the storlet's memory: the object
 * node's input pipe holds references to the object's pages, and they pass
 * into the output pipe as they are. Otherwise, or when the kernel refuses
 * splice for these descriptors, it reads and writes through a buffer.
 * Returns the bytes copied, or -errno (-EPIPE: the reader went away).
 */
int64_t storlet_copy(struct storlet *s);
/* printf into the output; same returns as storlet_write(). */
int storlet_printf(struct storlet *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on the log (fd 2); a newline is added. Never fails loudly. */
void storlet_log(struct storlet *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Ends the invocation successfully: sends the metadata if not sent, closes
 * the output and the channels, frees s. Returns STORLET_EXIT_OK (so
 * `return storlet_finish(s);` ends main), or STORLET_EXIT_FAILED if the
 * metadata or the output could not be flushed (logged).
 */
int storlet_finish(struct storlet *s);

/*
 * Ends the invocation with a failure: logs the reason, sends it as an error
 * frame on fd 3 (the engine puts it in its 4xx/5xx answer before output, or
 * in its log after), and exits with `code` (non-zero). `s` may be NULL.
 */
void storlet_fail(struct storlet *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* ------------------------------------------------------------ services */

/*
 * A stream opened through the services channel: the body of another object
 * or the output of another storlet. Read it with storlet_stream_read() (or
 * the fd), then storlet_stream_close(), which tells whether it was complete.
 */
struct storlet_stream {
    int fd;            /* read end of the body; -1 when closed */
    uint64_t id;       /* request id */
    json_t *reply;     /* the reply frame (new reference): status, metadata,
                        * content_type, content_length, etag */
};

/* Whether the engine gave this invocation a services channel (fd 4). */
bool storlet_has_services(const struct storlet *s);

/*
 * Opens object `path` ("container/object" in the caller's account, or
 * "/account/container/object"), read with the caller's credentials;
 * `range` is NULL or "bytes=a-b". Returns 0 with *out filled, or -errno:
 * -ENOTCONN no services channel, -ENOENT 404, -EACCES 401/403, -EINVAL 4xx
 * otherwise, -EIO engine failure or 5xx; `reason` (may be NULL, size n)
 * gets the engine's reason on failure.
 */
int storlet_open_object(struct storlet *s, const char *path, const char *range,
                        struct storlet_stream *out, char *reason, size_t n);

/*
 * Runs storlet `name` (an object of the account's storlet container) on
 * object `path` with `params` (a JSON object of strings, borrowed; NULL for
 * none), with the caller's credentials. Returns as storlet_open_object();
 * the stream carries the other storlet's output, its reply its metadata.
 */
int storlet_invoke(struct storlet *s, const char *name, const char *path,
                   json_t *params, struct storlet_stream *out, char *reason,
                   size_t n);

/* Reads from a services stream: bytes read, 0 at its end, or -errno. */
ssize_t storlet_stream_read(struct storlet_stream *st, void *buf, size_t n);

/*
 * Closes the stream and reads the engine's end frame for it. Returns 0 if
 * the engine delivered the whole body, -EIO if it ended short (or the
 * stream was closed before its end: the rest is discarded), -EPROTO on a
 * protocol error. Frees st->reply.
 */
int storlet_stream_close(struct storlet *s, struct storlet_stream *st);

#endif
