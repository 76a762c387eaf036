/*
 * check_obj_listing.c - listings compared byte for byte with Swift's.
 *
 * The fixture (object rows of one container, container rows of one
 * account) and every expected response below were captured from a real
 * OpenStack Swift 2.30.1 container server and account server by
 * test/unit/check_obj_listing_capture.py (it loads the same fixture through
 * the backend API, runs each query, and prints the block between the
 * BEGIN/END CAPTURED markers; re-run it against the swift-saio anchor to
 * refresh). Each case is: query string, Accept header, Swift's status,
 * Content-Type, body. Here the same fixture goes into obj_db, each query
 * goes through obj_listing_query_parse + obj_db_*_list + the formatter, and
 * status, content type and body must equal Swift's. Error bodies (400, 412)
 * are compared with the struct err text; a 406 body is the HTTP layer's.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "objectd/obj_db.h"
#include "objectd/obj_listing.h"

struct fixture_obj {
    const char *name, *ts;
    unsigned size;
    const char *ctype, *etag, *ctype_ts, *meta_ts;
};

struct fixture_del {
    const char *name, *ts, *del_ts;
};

struct fixture_cont {
    const char *name, *put, *del;
    unsigned objects, bytes, policy;
};

struct listing_case {
    const char *qs, *accept;
    int status;
    const char *ctype, *body;
    size_t body_len;
};

/* BEGIN CAPTURED (test/unit/check_obj_listing_capture.py, Swift 2.30.1) */
static const char cap_container[] = "list&<\"c\">";
static const char cap_account[] = "AUTH_cap1795254689";
static const struct fixture_obj cap_objects[] = {
    {"a", "1700000000.12345", 5, "text/plain", "e-a", NULL, NULL},
    {"a/", "1700000001.00000", 0, "application/directory", "d41d8cd98f00b204e9800998ecf8427e", NULL, NULL},
    {"a/b", "1700000002.50000", 12, "a/b;swift_bytes=12345", "e-ab", NULL, NULL},
    {"a/b/c", "1700000003.00001", 3, "text/plain; charset=UTF-8", "e-abc", NULL, NULL},
    {"a/b0", "1700000004.99999", 7, "x/y;a=1;swift_bytes=7; b=\"q;r\"", "e-ab0", NULL, NULL},
    {"a/c", "1700000005.00000", 9, "t/x&<y>", "e&<>\"'", "1700000006.00000", "1700000007.12340"},
    {"b", "1700000008.00000", 1, "application/octet-stream", "e-b", NULL, NULL},
    {"b/x", "1700000009.00000", 2, "text/plain", "e-bx", NULL, NULL},
    {"c", "1700000010.00000", 3, "text/plain", "e-c", NULL, NULL},
    {"q&<>\"'x", "1700000011.00000", 4, "text/plain", "e-q", NULL, NULL},
    {"ctl\001x\011y", "1700000012.00000", 5, "text/plain", "e-ctl", NULL, NULL},
    {"del\177x", "1700000013.00000", 6, "text/plain", "e-del", NULL, NULL},
    {"back\\slash", "1700000014.00000", 7, "text/plain", "e-bs", NULL, NULL},
    {"\303\251/\303\274", "1700000015.00000", 8, "text/plain", "e-eu", NULL, NULL},
    {"\303\251t\303\251", "1700000016.00000", 9, "text/plain", "e-ete", NULL, NULL},
    {"\360\237\230\200 smile", "1700000017.00000", 10, "text/plain", "e-smile", NULL, NULL},
    {"zz\342\200\250line", "1700000018.00000", 11, "text/plain", "e-ls", NULL, NULL},
};
static const struct fixture_del cap_deleted[] = {
    {"gone", "1700000020.00000", "1700000021.00000"},
};
static const struct fixture_cont cap_containers[] = {
    {"c1", "1700000100.00000", "0", 3, 30, 0},
    {"c2-", "1700000101.10000", "0", 0, 0, 0},
    {"c2-x", "1700000102.00000", "0", 5, 500, 0},
    {"d&<>\"", "1700000103.00000", "0", 1, 1, 0},
    {"\303\251", "1700000104.00000", "0", 2, 2, 0},
    {"dead", "1700000105.00000", "1700000106.00000", 0, 0, 0},
};
static const struct listing_case cap_container_cases[] = {
    {"format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 2221},
    {"format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2988},
    {"format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 98},
    {"limit=3&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}]", 398},
    {"limit=3&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object></container>", 618},
    {"limit=3&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "", 9},
    {"marker=a/b&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 1823},
    {"marker=a/b&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2470},
    {"marker=a/b&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 89},
    {"end_marker=a/c&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}]", 668},
    {"end_marker=a/c&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object></container>", 966},
    {"end_marker=a/c&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "", 20},
    {"prefix=a/&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}]", 671},
    {"prefix=a/&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object></container>", 988},
    {"prefix=a/&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "", 22},
    {"delimiter=/&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"subdir\": \"a/\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"subdir\": \"b/\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"subdir\": \"\\u00e9/\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 1355},
    {"delimiter=/&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><subdir name=\"a/\"><name>a/</name></subdir><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><subdir name=\"b/\"><name>b/</name></subdir><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><subdir name=\"\303\251/\"><name>\303\251/</name></subdir><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 1902},
    {"delimiter=/&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "b\n"
        "b/\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 76},
    {"prefix=a/&delimiter=/&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"subdir\": \"a/b/\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}]", 552},
    {"prefix=a/&delimiter=/&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><subdir name=\"a/b/\"><name>a/b/</name></subdir><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object></container>", 855},
    {"prefix=a/&delimiter=/&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/\n"
        "a/b\n"
        "a/b/\n"
        "a/b0\n"
        "a/c\n"
        "", 21},
    {"delimiter=/&reverse=on&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"subdir\": \"\\u00e9/\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"subdir\": \"b/\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"subdir\": \"a/\"}, {\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}]", 1355},
    {"delimiter=/&reverse=on&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><subdir name=\"\303\251/\"><name>\303\251/</name></subdir><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><subdir name=\"b/\"><name>b/</name></subdir><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><subdir name=\"a/\"><name>a/</name></subdir><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object></container>", 1902},
    {"delimiter=/&reverse=on&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "\360\237\230\200 smile\n"
        "\303\251t\303\251\n"
        "\303\251/\n"
        "zz\342\200\250line\n"
        "q&<>\"'x\n"
        "del\177x\n"
        "ctl\001x\011y\n"
        "c\n"
        "back\\slash\n"
        "b/\n"
        "b\n"
        "a/\n"
        "a\n"
        "", 76},
    {"marker=b&reverse=1&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}]", 790},
    {"marker=b&reverse=1&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object></container>", 1147},
    {"marker=b&reverse=1&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/c\n"
        "a/b0\n"
        "a/b/c\n"
        "a/b\n"
        "a/\n"
        "a\n"
        "", 24},
    {"end_marker=b&reverse=true&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}]", 1298},
    {"end_marker=b&reverse=true&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object></container>", 1768},
    {"end_marker=b&reverse=true&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "\360\237\230\200 smile\n"
        "\303\251t\303\251\n"
        "\303\251/\303\274\n"
        "zz\342\200\250line\n"
        "q&<>\"'x\n"
        "del\177x\n"
        "ctl\001x\011y\n"
        "c\n"
        "back\\slash\n"
        "b/x\n"
        "", 72},
    {"path=a&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}]", 241},
    {"path=a&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object></container>", 440},
    {"path=a&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/b\n"
        "a/c\n"
        "", 8},
    {"path=&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 1456},
    {"path=&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 1974},
    {"path=&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "b\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 69},
    {"path=a/b/&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}]", 139},
    {"path=a/b/&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object></container>", 279},
    {"path=a/b/&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/b/c\n"
        "", 6},
    {"limit=0&format=json", NULL, 200, "application/json; charset=utf-8",
        "[]", 2},
    {"limit=0&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\" />", 90},
    {"limit=0&format=plain", NULL, 204, "text/plain; charset=utf-8",
        "", 0},
    {"prefix=zzz&format=json", NULL, 200, "application/json; charset=utf-8",
        "[]", 2},
    {"prefix=zzz&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\" />", 90},
    {"prefix=zzz&format=plain", NULL, 204, "text/plain; charset=utf-8",
        "", 0},
    {"marker=a&end_marker=b&prefix=a&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}]", 671},
    {"marker=a&end_marker=b&prefix=a&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object></container>", 988},
    {"marker=a&end_marker=b&prefix=a&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "", 22},
    {"delimiter=b&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"subdir\": \"a/b\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"subdir\": \"b\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 1483},
    {"delimiter=b&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><subdir name=\"a/b\"><name>a/b</name></subdir><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><subdir name=\"b\"><name>b</name></subdir><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2061},
    {"delimiter=b&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/c\n"
        "b\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 72},
    {"prefix=%C3%A9&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}]", 265},
    {"prefix=%C3%A9&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object></container>", 429},
    {"prefix=%C3%A9&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "", 12},
    {"delimiter=/&marker=a/&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"subdir\": \"b/\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"subdir\": \"\\u00e9/\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 1218},
    {"delimiter=/&marker=a/&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><subdir name=\"b/\"><name>b/</name></subdir><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><subdir name=\"\303\251/\"><name>\303\251/</name></subdir><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 1701},
    {"delimiter=/&marker=a/&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "b\n"
        "b/\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 71},
    {"delimiter=/&prefix=a/&reverse=on&limit=2&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}]", 253},
    {"delimiter=/&prefix=a/&reverse=on&limit=2&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object></container>", 450},
    {"delimiter=/&prefix=a/&reverse=on&limit=2&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/c\n"
        "a/b0\n"
        "", 9},
    {"delimiter=%C3%A9&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"subdir\": \"\\u00e9\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 1978},
    {"delimiter=%C3%A9&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><subdir name=\"\303\251\"><name>\303\251</name></subdir><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2701},
    {"delimiter=%C3%A9&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251\n"
        "\360\237\230\200 smile\n"
        "", 89},
    {"prefix=a&delimiter=/&marker=a/b&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"subdir\": \"a/\"}]", 18},
    {"prefix=a&delimiter=/&marker=a/b&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><subdir name=\"a/\"><name>a/</name></subdir></container>", 142},
    {"prefix=a&delimiter=/&marker=a/b&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/\n"
        "", 3},
    {"end_marker=a/b/c&delimiter=/&reverse=yes&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"subdir\": \"\\u00e9/\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"subdir\": \"b/\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"subdir\": \"a/\"}]", 1236},
    {"end_marker=a/b/c&delimiter=/&reverse=yes&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><subdir name=\"\303\251/\"><name>\303\251/</name></subdir><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><subdir name=\"b/\"><name>b/</name></subdir><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><subdir name=\"a/\"><name>a/</name></subdir></container>", 1743},
    {"end_marker=a/b/c&delimiter=/&reverse=yes&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "\360\237\230\200 smile\n"
        "\303\251t\303\251\n"
        "\303\251/\n"
        "zz\342\200\250line\n"
        "q&<>\"'x\n"
        "del\177x\n"
        "ctl\001x\011y\n"
        "c\n"
        "back\\slash\n"
        "b/\n"
        "b\n"
        "a/\n"
        "", 74},
    {"limit=2&marker=a/b&prefix=a/&delimiter=/&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"subdir\": \"a/b/\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}]", 151},
    {"limit=2&marker=a/b&prefix=a/&delimiter=/&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><subdir name=\"a/b/\"><name>a/b/</name></subdir><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object></container>", 315},
    {"limit=2&marker=a/b&prefix=a/&delimiter=/&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a/b/\n"
        "a/b0\n"
        "", 10},
    {"limit=abc&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 2221},
    {"limit=abc&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2988},
    {"limit=abc&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 98},
    {"reverse=no&limit=2&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}]", 279},
    {"reverse=no&limit=2&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object></container>", 459},
    {"reverse=no&limit=2&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "", 5},
    {"prefix=a+b&format=json", NULL, 200, "application/json; charset=utf-8",
        "[]", 2},
    {"prefix=a+b&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\" />", 90},
    {"prefix=a+b&format=plain", NULL, 204, "text/plain; charset=utf-8",
        "", 0},
    {"marker=%E9&format=json", NULL, 400, "text/plain",
        "\"marker\" parameter not valid UTF-8", 34},
    {"marker=%E9&format=xml", NULL, 400, "text/plain",
        "\"marker\" parameter not valid UTF-8", 34},
    {"marker=%E9&format=plain", NULL, 400, "text/plain",
        "\"marker\" parameter not valid UTF-8", 34},
    {"limit=10001&format=json", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=10001&format=xml", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=10001&format=plain", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=99999999999999999999999&format=json", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=99999999999999999999999&format=xml", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=99999999999999999999999&format=plain", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 98},
    {"", "application/json", 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 2221},
    {"", "text/xml", 200, "text/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2988},
    {"", "application/*", 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 2221},
    {"", "text/*;q=0.5, application/xml", 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2988},
    {"", "image/png", 406, "text/html; charset=UTF-8",
        "<html><h1>Not Acceptable</h1><p>The resource is not available in a format acceptable to your browser.</p></html>", 112},
    {"", "text/plain;q", 400, "text/html; charset=UTF-8",
        "Invalid Accept header", 21},
    {"", "*/*", 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 98},
    {"format=XML", "application/json", 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2988},
    {"format=bogus", NULL, 200, "text/plain; charset=utf-8",
        "a\n"
        "a/\n"
        "a/b\n"
        "a/b/c\n"
        "a/b0\n"
        "a/c\n"
        "b\n"
        "b/x\n"
        "back\\slash\n"
        "c\n"
        "ctl\001x\011y\n"
        "del\177x\n"
        "q&<>\"'x\n"
        "zz\342\200\250line\n"
        "\303\251/\303\274\n"
        "\303\251t\303\251\n"
        "\360\237\230\200 smile\n"
        "", 98},
    {"format=", "application/xml", 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<container name=\"list&amp;&lt;&quot;c&quot;&gt;\"><object><name>a</name><hash>e-a</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:20.123450</last_modified></object><object><name>a/</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>application/directory</content_type><last_modified>2023-11-14T22:13:21.000000</last_modified></object><object><name>a/b</name><hash>e-ab</hash><bytes>12345</bytes><content_type>a/b</content_type><last_modified>2023-11-14T22:13:22.500000</last_modified></object><object><name>a/b/c</name><hash>e-abc</hash><bytes>3</bytes><content_type>text/plain;charset=UTF-8</content_type><last_modified>2023-11-14T22:13:23.000010</last_modified></object><object><name>a/b0</name><hash>e-ab0</hash><bytes>7</bytes><content_type>x/y;a=1;b=\"q;r\"</content_type><last_modified>2023-11-14T22:13:24.999990</last_modified></object><object><name>a/c</name><hash>e&amp;&lt;&gt;\"'</hash><bytes>9</bytes><content_type>t/x&amp;&lt;y&gt;</content_type><last_modified>2023-11-14T22:13:27.123400</last_modified></object><object><name>b</name><hash>e-b</hash><bytes>1</bytes><content_type>application/octet-stream</content_type><last_modified>2023-11-14T22:13:28.000000</last_modified></object><object><name>b/x</name><hash>e-bx</hash><bytes>2</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:29.000000</last_modified></object><object><name>back\\slash</name><hash>e-bs</hash><bytes>7</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:34.000000</last_modified></object><object><name>c</name><hash>e-c</hash><bytes>3</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:30.000000</last_modified></object><object><name>ctl\001x\011y</name><hash>e-ctl</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:32.000000</last_modified></object><object><name>del\177x</name><hash>e-del</hash><bytes>6</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:33.000000</last_modified></object><object><name>q&amp;&lt;&gt;\"'x</name><hash>e-q</hash><bytes>4</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:31.000000</last_modified></object><object><name>zz\342\200\250line</name><hash>e-ls</hash><bytes>11</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:38.000000</last_modified></object><object><name>\303\251/\303\274</name><hash>e-eu</hash><bytes>8</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:35.000000</last_modified></object><object><name>\303\251t\303\251</name><hash>e-ete</hash><bytes>9</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:36.000000</last_modified></object><object><name>\360\237\230\200 smile</name><hash>e-smile</hash><bytes>10</bytes><content_type>text/plain</content_type><last_modified>2023-11-14T22:13:37.000000</last_modified></object></container>", 2988},
    {"", "application/json;q=0.2, text/xml;q=0.2", 200, "application/json; charset=utf-8",
        "[{\"bytes\": 5, \"hash\": \"e-a\", \"name\": \"a\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:20.123450\"}, {\"bytes\": 0, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"a/\", \"content_type\": \"application/directory\", \"last_modified\": \"2023-11-14T22:13:21.000000\"}, {\"bytes\": 12345, \"hash\": \"e-ab\", \"name\": \"a/b\", \"content_type\": \"a/b\", \"last_modified\": \"2023-11-14T22:13:22.500000\"}, {\"bytes\": 3, \"hash\": \"e-abc\", \"name\": \"a/b/c\", \"content_type\": \"text/plain;charset=UTF-8\", \"last_modified\": \"2023-11-14T22:13:23.000010\"}, {\"bytes\": 7, \"hash\": \"e-ab0\", \"name\": \"a/b0\", \"content_type\": \"x/y;a=1;b=\\\"q;r\\\"\", \"last_modified\": \"2023-11-14T22:13:24.999990\"}, {\"bytes\": 9, \"hash\": \"e&<>\\\"'\", \"name\": \"a/c\", \"content_type\": \"t/x&<y>\", \"last_modified\": \"2023-11-14T22:13:27.123400\"}, {\"bytes\": 1, \"hash\": \"e-b\", \"name\": \"b\", \"content_type\": \"application/octet-stream\", \"last_modified\": \"2023-11-14T22:13:28.000000\"}, {\"bytes\": 2, \"hash\": \"e-bx\", \"name\": \"b/x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:29.000000\"}, {\"bytes\": 7, \"hash\": \"e-bs\", \"name\": \"back\\\\slash\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:34.000000\"}, {\"bytes\": 3, \"hash\": \"e-c\", \"name\": \"c\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:30.000000\"}, {\"bytes\": 5, \"hash\": \"e-ctl\", \"name\": \"ctl\\u0001x\\ty\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:32.000000\"}, {\"bytes\": 6, \"hash\": \"e-del\", \"name\": \"del\\u007fx\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:33.000000\"}, {\"bytes\": 4, \"hash\": \"e-q\", \"name\": \"q&<>\\\"'x\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:31.000000\"}, {\"bytes\": 11, \"hash\": \"e-ls\", \"name\": \"zz\\u2028line\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:38.000000\"}, {\"bytes\": 8, \"hash\": \"e-eu\", \"name\": \"\\u00e9/\\u00fc\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:35.000000\"}, {\"bytes\": 9, \"hash\": \"e-ete\", \"name\": \"\\u00e9t\\u00e9\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:36.000000\"}, {\"bytes\": 10, \"hash\": \"e-smile\", \"name\": \"\\ud83d\\ude00 smile\", \"content_type\": \"text/plain\", \"last_modified\": \"2023-11-14T22:13:37.000000\"}]", 2221},
};
static const struct listing_case cap_account_cases[] = {
    {"format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c1\", \"count\": 3, \"bytes\": 30, \"last_modified\": \"2023-11-14T22:15:00.000000\"}, {\"name\": \"c2-\", \"count\": 0, \"bytes\": 0, \"last_modified\": \"2023-11-14T22:15:01.100000\"}, {\"name\": \"c2-x\", \"count\": 5, \"bytes\": 500, \"last_modified\": \"2023-11-14T22:15:02.000000\"}, {\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}, {\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}]", 449},
    {"format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c1</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:15:00.000000</last_modified></container>\n"
        "<container><name>c2-</name><count>0</count><bytes>0</bytes><last_modified>2023-11-14T22:15:01.100000</last_modified></container>\n"
        "<container><name>c2-x</name><count>5</count><bytes>500</bytes><last_modified>2023-11-14T22:15:02.000000</last_modified></container>\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "</account>", 744},
    {"format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c1\n"
        "c2-\n"
        "c2-x\n"
        "d&<>\"\n"
        "\303\251\n"
        "", 21},
    {"limit=2&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c1\", \"count\": 3, \"bytes\": 30, \"last_modified\": \"2023-11-14T22:15:00.000000\"}, {\"name\": \"c2-\", \"count\": 0, \"bytes\": 0, \"last_modified\": \"2023-11-14T22:15:01.100000\"}]", 176},
    {"limit=2&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c1</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:15:00.000000</last_modified></container>\n"
        "<container><name>c2-</name><count>0</count><bytes>0</bytes><last_modified>2023-11-14T22:15:01.100000</last_modified></container>\n"
        "</account>", 343},
    {"limit=2&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c1\n"
        "c2-\n"
        "", 7},
    {"marker=c2&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c2-\", \"count\": 0, \"bytes\": 0, \"last_modified\": \"2023-11-14T22:15:01.100000\"}, {\"name\": \"c2-x\", \"count\": 5, \"bytes\": 500, \"last_modified\": \"2023-11-14T22:15:02.000000\"}, {\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}, {\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}]", 361},
    {"marker=c2&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c2-</name><count>0</count><bytes>0</bytes><last_modified>2023-11-14T22:15:01.100000</last_modified></container>\n"
        "<container><name>c2-x</name><count>5</count><bytes>500</bytes><last_modified>2023-11-14T22:15:02.000000</last_modified></container>\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "</account>", 615},
    {"marker=c2&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c2-\n"
        "c2-x\n"
        "d&<>\"\n"
        "\303\251\n"
        "", 18},
    {"delimiter=-&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c1\", \"count\": 3, \"bytes\": 30, \"last_modified\": \"2023-11-14T22:15:00.000000\"}, {\"subdir\": \"c2-\"}, {\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}, {\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}]", 289},
    {"delimiter=-&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c1</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:15:00.000000</last_modified></container>\n"
        "<subdir name=\"c2-\" />\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "</account>", 505},
    {"delimiter=-&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c1\n"
        "c2-\n"
        "d&<>\"\n"
        "\303\251\n"
        "", 16},
    {"prefix=c2-&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c2-\", \"count\": 0, \"bytes\": 0, \"last_modified\": \"2023-11-14T22:15:01.100000\"}, {\"name\": \"c2-x\", \"count\": 5, \"bytes\": 500, \"last_modified\": \"2023-11-14T22:15:02.000000\"}]", 179},
    {"prefix=c2-&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c2-</name><count>0</count><bytes>0</bytes><last_modified>2023-11-14T22:15:01.100000</last_modified></container>\n"
        "<container><name>c2-x</name><count>5</count><bytes>500</bytes><last_modified>2023-11-14T22:15:02.000000</last_modified></container>\n"
        "</account>", 346},
    {"prefix=c2-&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c2-\n"
        "c2-x\n"
        "", 9},
    {"delimiter=-&reverse=on&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}, {\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}, {\"subdir\": \"c2-\"}, {\"name\": \"c1\", \"count\": 3, \"bytes\": 30, \"last_modified\": \"2023-11-14T22:15:00.000000\"}]", 289},
    {"delimiter=-&reverse=on&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "<subdir name=\"c2-\" />\n"
        "<container><name>c1</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:15:00.000000</last_modified></container>\n"
        "</account>", 505},
    {"delimiter=-&reverse=on&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "\303\251\n"
        "d&<>\"\n"
        "c2-\n"
        "c1\n"
        "", 16},
    {"end_marker=d&reverse=1&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}, {\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}]", 182},
    {"end_marker=d&reverse=1&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "</account>", 354},
    {"end_marker=d&reverse=1&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "\303\251\n"
        "d&<>\"\n"
        "", 9},
    {"prefix=zzz&format=json", NULL, 200, "application/json; charset=utf-8",
        "[]", 2},
    {"prefix=zzz&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "</account>", 85},
    {"prefix=zzz&format=plain", NULL, 204, "text/plain; charset=utf-8",
        "", 0},
    {"path=c2&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c1\", \"count\": 3, \"bytes\": 30, \"last_modified\": \"2023-11-14T22:15:00.000000\"}, {\"name\": \"c2-\", \"count\": 0, \"bytes\": 0, \"last_modified\": \"2023-11-14T22:15:01.100000\"}, {\"name\": \"c2-x\", \"count\": 5, \"bytes\": 500, \"last_modified\": \"2023-11-14T22:15:02.000000\"}, {\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}, {\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}]", 449},
    {"path=c2&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c1</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:15:00.000000</last_modified></container>\n"
        "<container><name>c2-</name><count>0</count><bytes>0</bytes><last_modified>2023-11-14T22:15:01.100000</last_modified></container>\n"
        "<container><name>c2-x</name><count>5</count><bytes>500</bytes><last_modified>2023-11-14T22:15:02.000000</last_modified></container>\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "</account>", 744},
    {"path=c2&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c1\n"
        "c2-\n"
        "c2-x\n"
        "d&<>\"\n"
        "\303\251\n"
        "", 21},
    {"delimiter=-&marker=c2-&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"d&<>\\\"\", \"count\": 1, \"bytes\": 1, \"last_modified\": \"2023-11-14T22:15:03.000000\"}, {\"name\": \"\\u00e9\", \"count\": 2, \"bytes\": 2, \"last_modified\": \"2023-11-14T22:15:04.000000\"}]", 182},
    {"delimiter=-&marker=c2-&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>d&amp;&lt;&gt;\"</name><count>1</count><bytes>1</bytes><last_modified>2023-11-14T22:15:03.000000</last_modified></container>\n"
        "<container><name>\303\251</name><count>2</count><bytes>2</bytes><last_modified>2023-11-14T22:15:04.000000</last_modified></container>\n"
        "</account>", 354},
    {"delimiter=-&marker=c2-&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "d&<>\"\n"
        "\303\251\n"
        "", 9},
    {"prefix=c&delimiter=2&format=json", NULL, 200, "application/json; charset=utf-8",
        "[{\"name\": \"c1\", \"count\": 3, \"bytes\": 30, \"last_modified\": \"2023-11-14T22:15:00.000000\"}, {\"subdir\": \"c2\"}]", 106},
    {"prefix=c&delimiter=2&format=xml", NULL, 200, "application/xml; charset=utf-8",
        "<\077xml version=\"1.0\" encoding=\"UTF-8\"\077>\n"
        "<account name=\"AUTH_cap1795254689\">\n"
        "<container><name>c1</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:15:00.000000</last_modified></container>\n"
        "<subdir name=\"c2\" />\n"
        "</account>", 235},
    {"prefix=c&delimiter=2&format=plain", NULL, 200, "text/plain; charset=utf-8",
        "c1\n"
        "c2\n"
        "", 6},
    {"limit=10001&format=json", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=10001&format=xml", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
    {"limit=10001&format=plain", NULL, 412, "text/html; charset=UTF-8",
        "Maximum limit is 10000", 22},
};
/* END CAPTURED */

static const struct hashpath_secret secret = {"pre", "suf"};

struct sink {
    char *buf;
    size_t len, cap;
    unsigned writes;
};

static int sink_write(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->writes++;
    return 0;
}

static struct ts ts_of(const char *s)
{
    struct ts t;
    ck_assert_int_eq(ts_parse(s, &t), 0);
    return t;
}

static char tmpdir[64];

static struct obj_db *open_fixture(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_obj_listing.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char path[128];
    snprintf(path, sizeof(path), "%s/db", tmpdir);
    struct err e;
    struct obj_db *db = obj_db_open(path, &secret, OBJ_DB_NO_SYNC, &e);
    ck_assert_msg(db != NULL, "%s", e.msg);
    bool created;
    struct ts t0 = ts_of("1600000000.00000");
    ck_assert_int_eq(obj_db_cont_put(db, cap_account, cap_container, &t0, 0, 0, NULL, 0,
                                     &created, &e), 0);
    for (size_t i = 0; i < sizeof(cap_objects) / sizeof(cap_objects[0]); i++) {
        const struct fixture_obj *o = &cap_objects[i];
        struct ts cts, mts;
        struct obj_db_obj_update u = {
            .name = o->name, .ts = ts_of(o->ts), .size = o->size, .content_type = o->ctype,
            .etag = o->etag,
        };
        if (o->ctype_ts) {
            cts = ts_of(o->ctype_ts);
            u.ctype_ts = &cts;
        }
        if (o->meta_ts) {
            mts = ts_of(o->meta_ts);
            u.meta_ts = &mts;
        }
        ck_assert_int_eq(obj_db_cont_update_object(db, cap_account, cap_container, &u, false,
                                                   NULL), 0);
    }
    for (size_t i = 0; i < sizeof(cap_deleted) / sizeof(cap_deleted[0]); i++) {
        const struct fixture_del *d = &cap_deleted[i];
        struct obj_db_obj_update u = {.name = d->name, .ts = ts_of(d->ts), .size = 1,
                                      .content_type = "t/t", .etag = "x"};
        ck_assert_int_eq(obj_db_cont_update_object(db, cap_account, cap_container, &u, false,
                                                   NULL), 0);
        struct obj_db_obj_update del = {.name = d->name, .ts = ts_of(d->del_ts), .deleted = true};
        ck_assert_int_eq(obj_db_cont_update_object(db, cap_account, cap_container, &del, false,
                                                   NULL), 0);
    }
    ck_assert_int_eq(obj_db_acct_put(db, cap_account, &t0, NULL, 0, &created, &e), 0);
    for (size_t i = 0; i < sizeof(cap_containers) / sizeof(cap_containers[0]); i++) {
        const struct fixture_cont *c = &cap_containers[i];
        struct obj_db_cont_report r = {c->name, ts_of(c->put), ts_of(c->del), c->objects,
                                       c->bytes, c->policy};
        ck_assert_int_eq(obj_db_acct_update_container(db, cap_account, &r, false, false), 0);
    }
    return db;
}

static void close_fixture(struct obj_db *db)
{
    obj_db_close(db);
    char *cmd = xasprintf("rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static void run_case(struct obj_db *db, bool account, const struct listing_case *c)
{
    struct obj_listing_query q;
    struct err e;
    err_clear(&e);
    int rc = obj_listing_query_parse(c->qs, c->accept, &q, &e);
    if (rc < 0) {
        ck_assert_msg(obj_http_status(rc, 200) == c->status, "%s [%s]: status %d, Swift %d",
                      c->qs, c->accept ? c->accept : "", obj_http_status(rc, 200), c->status);
        if (c->status != 406)
            ck_assert_msg(strlen(e.msg) == c->body_len && memcmp(e.msg, c->body, c->body_len) == 0,
                          "%s: body '%s'", c->qs, e.msg);
        obj_listing_query_release(&q);
        return;
    }
    struct sink s = {0};
    struct obj_listing_fmt *f = obj_listing_fmt_new(q.format, account,
                                                    account ? cap_account : cap_container,
                                                    sink_write, &s);
    if (account)
        rc = obj_db_acct_list(db, cap_account, &q.params, obj_listing_fmt_entry, f);
    else
        rc = obj_db_cont_list(db, cap_account, cap_container, &q.params, -1,
                              obj_listing_fmt_entry, f);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(obj_listing_fmt_finish(f), 0);
    int status = q.format == OBJ_LISTING_PLAIN && obj_listing_fmt_count(f) == 0 ? 204 : 200;
    if (status == 204)
        ck_assert_uint_eq(s.writes, 0); /* nothing written: the caller can still send 204 */
    char ctype[64];
    snprintf(ctype, sizeof(ctype), "%s; charset=utf-8", q.content_type);
    ck_assert_msg(status == c->status, "%s [%s]: status %d, Swift %d", c->qs,
                  c->accept ? c->accept : "", status, c->status);
    ck_assert_msg(strcmp(ctype, c->ctype) == 0, "%s: type %s, Swift %s", c->qs, ctype, c->ctype);
    size_t d = 0;
    while (d < s.len && d < c->body_len && s.buf[d] == c->body[d])
        d++;
    size_t from = d > 40 ? d - 40 : 0;
    ck_assert_msg(d == s.len && d == c->body_len,
                  "%s [%s]: bodies differ at byte %zu (got %zu, Swift %zu bytes):\n"
                  " got  ...%.120s\n want ...%.120s",
                  c->qs, c->accept ? c->accept : "", d, s.len, c->body_len,
                  s.buf ? s.buf + from : "", c->body + from);
    obj_listing_fmt_free(f);
    obj_listing_query_release(&q);
    free(s.buf);
}

START_TEST(container_listings_equal_swift)
{
    struct obj_db *db = open_fixture();
    for (size_t i = 0; i < sizeof(cap_container_cases) / sizeof(cap_container_cases[0]); i++)
        run_case(db, false, &cap_container_cases[i]);
    close_fixture(db);
}
END_TEST

START_TEST(account_listings_equal_swift)
{
    struct obj_db *db = open_fixture();
    for (size_t i = 0; i < sizeof(cap_account_cases) / sizeof(cap_account_cases[0]); i++)
        run_case(db, true, &cap_account_cases[i]);
    close_fixture(db);
}
END_TEST

static int count_write(void *arg, const char *p, size_t n)
{
    size_t *total = arg;
    (void)p;
    ck_assert_uint_le(n, OBJ_LISTING_CHUNK);
    *total += n;
    return 0;
}

/* A full page of 10000 entries streams through the chunk buffer. */
START_TEST(formatter_streams_in_bounded_chunks)
{
    struct obj_listing_fmt *f = obj_listing_fmt_new(OBJ_LISTING_JSON, false, "c", count_write,
                                                    NULL);
    obj_listing_fmt_free(f);
    size_t total = 0;
    f = obj_listing_fmt_new(OBJ_LISTING_JSON, false, "c", count_write, &total);
    char name[64];
    for (int i = 0; i < OBJ_DB_LISTING_LIMIT; i++) {
        snprintf(name, sizeof(name), "object-%06d", i);
        struct obj_db_list_entry e = {.name = name, .size = 1, .content_type = "text/plain",
                                      .etag = "d41d8cd98f00b204e9800998ecf8427e"};
        ck_assert_int_eq(obj_listing_fmt_entry(f, &e), 0);
    }
    ck_assert_int_eq(obj_listing_fmt_finish(f), 0);
    ck_assert_uint_eq(obj_listing_fmt_count(f), OBJ_DB_LISTING_LIMIT);
    ck_assert_uint_gt(total, 10 * OBJ_LISTING_CHUNK);
    obj_listing_fmt_free(f);
}
END_TEST

static Suite *obj_listing_suite(void)
{
    Suite *s = suite_create("obj_listing");
    TCase *tc = tcase_create("swift");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, container_listings_equal_swift);
    tcase_add_test(tc, account_listings_equal_swift);
    tcase_add_test(tc, formatter_streams_in_bounded_chunks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(obj_listing_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
