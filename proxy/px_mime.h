/*
 * px_mime.h - Content-Type guessed from an object name's extension, for
 * PUTs that send none (swift upload never does). A built-in table of the
 * common types Python's mimetypes knows, matched case-insensitively on the
 * last extension, skipping a compression suffix as Python's mimetypes
 * does ("x.tar.gz" is application/x-tar, "x.gz" has no type);
 * application/octet-stream when nothing matches.
 * Pure and thread-safe.
 */
#ifndef CAIRN_PX_MIME_H
#define CAIRN_PX_MIME_H

#include <stddef.h>

/* The type for name[0..len) (a borrowed static string, never NULL). */
const char *px_mime_guess(const char *name, size_t len);

#endif
