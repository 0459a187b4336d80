/*
 * Pure mappings between the Hive Metastore's stored forms and the Glue
 * model, shared by the Hive Metastore driver and its unit tests: Hive's
 * escaped partition names, Glue's encoding of skewed value lists, and the
 * column limits of the Hive 3.1 schema.
 */
#ifndef MS_DRIVERS_HMS_MAP_H
#define MS_DRIVERS_HMS_MAP_H

#include <stddef.h>

#include "drivers/catalog/hms_sql.h"
#include "util/buf.h"

#define HMS_DEFAULT_PARTITION "__HIVE_DEFAULT_PARTITION__"

/*
 * Append s escaped as Hive's FileUtils.escapePathName does: `%XX` (upper-case
 * hex) for control characters, DEL and `" # % ' * / : = ? \ { [ ] ^`; a NULL
 * or empty s is __HIVE_DEFAULT_PARTITION__.  0 or MS_ETOOBIG.
 */
int hms_escape_path(ms_buf *out, const char *s);

/*
 * Append Hive's PART_NAME for n keys (lowercased) and values:
 * `k1=v1/k2=v2`, each part escaped.  0 or MS_ETOOBIG.
 */
int hms_part_name(ms_buf *out, const char *const *keys, const char *const *values, size_t n);

/*
 * Append Glue's encoding of a skewed value list: `<len>$<value>` per value,
 * len in UTF-16 code units as Java's String.length() counts them (AWS's Glue
 * client for Hive is Java).
 */
int hms_skew_encode(ms_buf *out, const char *const *values, size_t n);

/*
 * Split Glue's encoding of a skewed value list into at most max values: each
 * (start, length) pair goes into starts/lens (pointing into s); *n receives
 * the count; lens are in bytes.  MS_EINVAL when s is not such an encoding.
 */
int hms_skew_decode(const char *s, const char **starts, size_t *lens, size_t max, size_t *n);

/* Characters in a UTF-8 string (bytes that are not continuation bytes). */
size_t hms_chars(const char *s, size_t len);

/*
 * Largest character count of a Hive column, by "TABLE.COLUMN" and dialect;
 * 0 for a column without a limit (text).
 */
size_t hms_column_limit(hms_dialect d, const char *column);

#endif
