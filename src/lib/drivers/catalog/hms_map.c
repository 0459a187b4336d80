/*
 * The pure parts of the Hive Metastore mapping (see hms_map.h), kept apart
 * from the driver so that unit tests reach them without a server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_map.h"
#include "model/model_internal.h" /* the skew encoding */

static int must_escape(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return 1;
	return strchr("\"#%'*/:=?\\{[]^", c) != NULL && c != '\0';
}

int hms_escape_path(ms_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	if (!s || !*s)
		return ms_buf_adds(out, HMS_DEFAULT_PARTITION);
	for (; *s && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (must_escape(c)) {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = ms_buf_add(out, e, 3);
		} else {
			rc = ms_buf_addc(out, (char)c);
		}
	}
	return rc;
}

int hms_part_name(ms_buf *out, const char *const *keys, const char *const *values, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		char *lower = strdup(keys[i] ? keys[i] : "");

		if (!lower)
			return MS_ENOMEM;
		for (char *p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		if (i)
			rc = ms_buf_addc(out, '/');
		if (rc == 0)
			rc = hms_escape_path(out, lower);
		if (rc == 0)
			rc = ms_buf_addc(out, '=');
		if (rc == 0)
			rc = hms_escape_path(out, values[i]);
		free(lower);
	}
	if (rc == 0 && !out->ptr)
		rc = ms_buf_add(out, "", 0);
	return rc;
}

int hms_skew_encode(ms_buf *out, const char *const *values, size_t n)
{
	return ms_model_skew_encode(out, values, n);
}

int hms_skew_decode(const char *s, const char **starts, size_t *lens, size_t max, size_t *n)
{
	return ms_model_skew_split(s, '$', starts, lens, max, n);
}

size_t hms_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static const struct {
	const char *column;
	size_t pg, mysql;
} limits[] = {
	{ "DBS.NAME", 128, 128 },
	{ "DBS.DESC", 4000, 4000 },
	{ "DBS.DB_LOCATION_URI", 4000, 4000 },
	{ "DATABASE_PARAMS.PARAM_KEY", 180, 180 },
	{ "DATABASE_PARAMS.PARAM_VALUE", 4000, 4000 },
	{ "TBLS.TBL_NAME", 256, 256 },
	{ "TBLS.OWNER", 767, 767 },
	{ "TBLS.TBL_TYPE", 128, 128 },
	{ "TABLE_PARAMS.PARAM_KEY", 256, 256 },
	{ "SDS.INPUT_FORMAT", 4000, 4000 },
	{ "SDS.OUTPUT_FORMAT", 4000, 4000 },
	{ "SDS.LOCATION", 4000, 4000 },
	{ "SD_PARAMS.PARAM_KEY", 256, 256 },
	{ "SERDES.NAME", 128, 128 },
	{ "SERDES.SLIB", 4000, 4000 },
	{ "SERDE_PARAMS.PARAM_KEY", 256, 256 },
	{ "COLUMNS_V2.COLUMN_NAME", 767, 767 },
	{ "COLUMNS_V2.COMMENT", 4000, 256 },
	{ "PARTITION_KEYS.PKEY_NAME", 128, 128 },
	{ "PARTITION_KEYS.PKEY_TYPE", 767, 767 },
	{ "PARTITION_KEYS.PKEY_COMMENT", 4000, 4000 },
	{ "PARTITIONS.PART_NAME", 767, 767 },
	{ "PARTITION_KEY_VALS.PART_KEY_VAL", 256, 256 },
	{ "PARTITION_PARAMS.PARAM_KEY", 256, 256 },
	{ "PARTITION_PARAMS.PARAM_VALUE", 4000, 4000 },
	{ "BUCKETING_COLS.BUCKET_COL_NAME", 256, 256 },
	{ "SORT_COLS.COLUMN_NAME", 767, 767 },
	{ "SKEWED_COL_NAMES.SKEWED_COL_NAME", 256, 256 },
	{ "SKEWED_STRING_LIST_VALUES.STRING_LIST_VALUE", 256, 256 },
	{ "SKEWED_COL_VALUE_LOC_MAP.LOCATION", 4000, 4000 },
};

size_t hms_column_limit(hms_dialect d, const char *column)
{
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strcmp(limits[i].column, column) == 0)
			return d == HMS_MYSQL ? limits[i].mysql : limits[i].pg;
	return 0;
}
