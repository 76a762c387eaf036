/*
 * obj_srv_conf.c - the option table of cairn-objectd (etc/objectd.conf).
 *
 * etc/objectd.conf.sample is rendered from this table
 * (conf_render_sample) and test/unit/check_obj_server.c compares the two
 * byte for byte, so they cannot drift. Defaults follow Swift's object
 * server where Swift has the option.
 *
 * Threading: loaded once at start-up, read-only afterwards.
 */
#include "objectd/obj_server.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/eng.h"

#define OC(f) offsetof(struct obj_conf, f)

const char obj_conf_intro[] =
    "cairn-objectd configuration (etc/objectd.conf). Lines starting with # "
    "are comments; each option below is shown with its default, so "
    "uncomment only what you change. Generated from the option table in "
    "objectd/obj_srv_conf.c.";

const struct conf_option obj_conf_table[] = {
    {"DEFAULT", "bind_ip", CONF_STRING, OC(bind_ip), "0.0.0.0", 0, 0, NULL, 0,
     "Address the three listeners bind to (numeric IPv4 or IPv6)."},
    {"DEFAULT", "bind_port", CONF_INT, OC(bind_port), "6200", 0, 65535, NULL,
     0, "Port of the object role (Swift's object server); 0 picks a free "
     "port."},
    {"DEFAULT", "container_port", CONF_INT, OC(container_port), "6201", -1,
     65535, NULL, 0,
     "Port of the container role (container records, object rows); 0 picks "
     "a free port, -1 turns the role off."},
    {"DEFAULT", "account_port", CONF_INT, OC(account_port), "6202", -1, 65535,
     NULL, 0,
     "Port of the account role (account records, container reports); 0 "
     "picks a free port, -1 turns the role off."},
    {"DEFAULT", "workers", CONF_INT, OC(workers), "2", 1, 256, NULL, 0,
     "Event-loop threads, each with its own listeners (SO_REUSEPORT)."},
    {"DEFAULT", "devices", CONF_PATH, OC(devices), "/srv/node", 0, 0, NULL, 0,
     "Directory holding one directory per device."},
    {"DEFAULT", "mount_check", CONF_BOOL, OC(mount_check), "true", 0, 0, NULL,
     0, "A device must be a mount point; an unmounted one answers 507."},
    {"DEFAULT", "cluster_conf", CONF_PATH, OC(cluster_conf),
     "/etc/cairn/cairn.conf", 0, 0, NULL, 0,
     "The cluster file with the hash path secrets and the constraints."},
    {"DEFAULT", "log_level", CONF_STRING, OC(log_level), "notice", 0, 0, NULL,
     0, "err, warning, notice, info or debug."},
    {"DEFAULT", "log_facility", CONF_STRING, OC(log_facility), "", 0, 0, NULL,
     0, "Syslog facility (LOG_LOCAL0...); empty logs to stderr."},
    {"DEFAULT", "log_file", CONF_STRING, OC(log_file), "", 0, 0, NULL, 0,
     "File the log lines are appended to instead of stderr; SIGHUP reopens "
     "it (for log rotation). Empty keeps stderr."},
    {"DEFAULT", "disk_threads", CONF_INT, OC(disk_threads), "32", 1, 1024,
     NULL, 0,
     "Threads doing disk and database work, shared by all workers. Most "
     "of a small write's time is an fsync waiting for the journal; the "
     "file system commits the fsyncs that wait together in one journal "
     "write, so more threads than disks let concurrent writes share "
     "commits."},
    {"DEFAULT", "max_queued", CONF_INT, OC(max_queued), "4096", 1, 1000000,
     NULL, 0,
     "Disk jobs that may wait; beyond that requests get 503."},
    {"DEFAULT", "conn_timeout", CONF_DURATION, OC(conn_timeout), "0.5", 1,
     600000, NULL, 0, "Connect timeout for container and account updates."},
    {"DEFAULT", "node_timeout", CONF_DURATION, OC(node_timeout), "3", 1,
     600000, NULL, 0,
     "Timeout without progress for container and account updates."},
    {"DEFAULT", "container_update_timeout", CONF_DURATION,
     OC(container_update_timeout), "1", 0, 600000, NULL, 0,
     "How long an object PUT or DELETE waits for its container updates "
     "before it answers (they go on in the background)."},
    {"DEFAULT", "client_timeout", CONF_DURATION, OC(client_timeout), "60", 1,
     3600000, NULL, 0,
     "A client that sends no byte of its request for this long is "
     "dropped."},
    {"DEFAULT", "disk_chunk_size", CONF_SIZE, OC(disk_chunk_size), "65536",
     4096, 16777216, NULL, 0, "Bytes per diskfile read or write job."},
    {"DEFAULT", "updater_interval", CONF_DURATION, OC(updater_interval), "300",
     10, 86400000, NULL, 0,
     "Time between sweeps over async_pending (failed updates)."},
    {"DEFAULT", "account_update_interval", CONF_DURATION,
     OC(account_update_interval), "1", 1, 86400000, NULL, 0,
     "How often changed container totals are reported to the accounts."},
    {"DEFAULT", "reclaim_age", CONF_INT, OC(reclaim_age), "604800", 1, 0x7fffffff,
     NULL, 0, "Seconds tombstones are kept."},
    {"DEFAULT", "db_fsync", CONF_BOOL, OC(db_fsync), "true", 0, 0, NULL, 0,
     "Container and account writes are fsynced before they are answered. "
     "Turn off only for tests."},
    {"DEFAULT", "allowed_headers", CONF_LIST, OC(allowed_headers),
     "Content-Disposition, Content-Encoding, X-Delete-At, X-Object-Manifest, "
     "X-Static-Large-Object, Cache-Control, Content-Language, Expires, "
     "X-Robots-Tag",
     0, 0, NULL, 0,
     "Request headers an object keeps besides Content-Type and metadata, "
     "as Swift's allowed_headers."},
    ENG_CONF_ROWS(OC)
    {"DEFAULT", "swift_dir", CONF_PATH, OC(swift_dir), "/etc/cairn", 0, 0,
     NULL, 0,
     "Directory with account.ring, container.ring and object.ring, which "
     "the background daemons (replicator, expirer) read."},
    {"DEFAULT", "ring_check_interval", CONF_DURATION, OC(ring_check_interval),
     "15", 0, 86400000, NULL, 0,
     "How often the ring files are checked for changes (0: never)."},
    {"DEFAULT", "my_ips", CONF_LIST, OC(my_ips), "", 0, 0, NULL, 0,
     "Addresses that are this node's in the rings (a ring device is local "
     "when its ip or replication_ip is one of them and its port is this "
     "role's port). Empty: bind_ip, or every interface address when "
     "bind_ip is a wildcard."},
    {"DEFAULT", "replicator_interval", CONF_DURATION, OC(replicator_interval),
     "30", 0, 86400000, NULL, 0,
     "Time between replication passes (objects, containers, accounts); 0 "
     "runs none in the daemon (cairn-objectd --replicate-once still "
     "works)."},
    {"DEFAULT", "auditor_interval", CONF_DURATION, OC(auditor_interval),
     "1800", 0, 86400000, NULL, 0,
     "Time between auditor passes over every object (0: no auditor "
     "thread)."},
    {"DEFAULT", "auditor_bytes_per_second", CONF_SIZE,
     OC(auditor_bytes_per_second), "10M", 0, 1000000000000, NULL, 0,
     "Body bytes the auditor reads per second per pass (0: no limit)."},
    {"DEFAULT", "expirer_interval", CONF_DURATION, OC(expirer_interval),
     "300", 0, 86400000, NULL, 0,
     "Time between expirer passes, which delete objects whose "
     "X-Delete-At has passed (0: no expirer thread)."},
    CONF_END,
};

int obj_conf_load(const char *path, struct obj_conf *c,
                  struct conf_errors *errs)
{
    struct conf *cf = conf_parse_file(path, errs);
    if (!cf) {
        /* defaults so the caller can still release */
        struct conf *empty = conf_parse_buf(path, "", 0, errs);
        conf_load(empty, obj_conf_table, c, errs);
        conf_free(empty);
        return -EINVAL;
    }
    size_t before = errs->count;
    conf_load(cf, obj_conf_table, c, errs);
    conf_free(cf);
    return errs->count > before ? -EINVAL : 0;
}

void obj_conf_release(struct obj_conf *c)
{
    conf_release(obj_conf_table, c);
}
