/*
 * px_mime.c - extension table for px_mime_guess. The rows are what Python's
 * mimetypes (with Debian's /etc/mime.types, as Swift runs here) answers for
 * common extensions; sorted by extension for bsearch.
 */
#include "proxy/px_mime.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mime_row {
    const char *ext;
    const char *type;
};

static const struct mime_row rows[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"c", "text/x-csrc"},
    {"crt", "application/x-x509-ca-cert"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"dcm", "application/dicom"},
    {"deb", "application/vnd.debian.binary-package"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"exe", "application/x-msdos-program"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"h", "text/x-chdr"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar"},
    {"iso", "application/x-iso9660-image"},
    {"jar", "application/java-archive"},
    {"jp2", "image/jp2"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"m4a", "audio/mp4"},
    {"md", "text/markdown"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ogg", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"pdf", "application/pdf"},
    {"pem", "application/pem-certificate-chain"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"},
    {"py", "text/x-python"},
    {"rpm", "application/x-redhat-package-manager"},
    {"rss", "application/x-rss+xml"},
    {"rtf", "application/rtf"},
    {"sh", "text/x-sh"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tex", "text/x-tex"},
    {"tgz", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"tsv", "text/tab-separated-values"},
    {"txt", "text/plain"},
    {"wasm", "application/wasm"},
    {"wav", "audio/x-wav"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
};

static int row_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct mime_row *)elem)->ext);
}

/* Extensions Python treats as content encodings: the type is that of the
 * extension before them ("x.tar.gz" is a tar). */
static bool is_encoding(const char *ext)
{
    return strcmp(ext, "gz") == 0 || strcmp(ext, "bz2") == 0 ||
           strcmp(ext, "xz") == 0 || strcmp(ext, "z") == 0 ||
           strcmp(ext, "br") == 0;
}

const char *px_mime_guess(const char *name, size_t len)
{
    const char *def = "application/octet-stream";
    size_t end = len;
    for (int round = 0; round < 2; round++) {
        size_t i = end;
        while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
            i--;
        if (i == 0 || name[i - 1] != '.' || end - i == 0 || end - i > 15)
            return def;
        /* As os.path.splitext: dots leading the base name do not start an
         * extension (".html" has none). */
        size_t b = i - 1;
        while (b > 0 && name[b - 1] == '.')
            b--;
        if (b == 0 || name[b - 1] == '/')
            return def;
        char ext[16];
        for (size_t k = 0; k < end - i; k++)
            ext[k] = (char)tolower((unsigned char)name[i + k]);
        ext[end - i] = '\0';
        if (round == 0 && is_encoding(ext)) {
            end = i - 1;
            continue;
        }
        const struct mime_row *r = bsearch(ext, rows, sizeof(rows) /
                                           sizeof(rows[0]), sizeof(rows[0]),
                                           row_cmp);
        return r ? r->type : def;
    }
    return def;
}
