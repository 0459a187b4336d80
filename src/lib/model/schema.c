/*
 * The model's field tables: every object Glue defines for databases, tables
 * and partitions, field by field, with the name Glue's API gives it, the
 * name the migration utility's snapshot lines give it, its type and its
 * Glue limit.  Both codecs and the validator are driven by these tables, so
 * a field Glue adds later is one line here.  Lookups go through a small
 * open-addressing table per object, built once, because the importer looks
 * up tens of keys per line for millions of lines.
 */
#include "model_internal.h"

#include <pthread.h>

#define F(g, l, t, fl, mx, sub) { g, l, t, fl, mx, sub }
#define NFIELDS(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

static ms_schema schema_column, schema_serde, schema_skewed, schema_order;

static const ms_field column_fields[] = {
	F("Name", "name", MS_F_NAME, MS_FF_REQUIRED, MS_NAME_MAX, NULL),
	F("Type", "type", MS_F_STR, 0, MS_COLUMN_TYPE_MAX, NULL),
	F("Comment", "comment", MS_F_STR, 0, MS_COMMENT_MAX, NULL),
	F("Parameters", "parameters", MS_F_PARAMS, 0, 0, NULL),
};

static const ms_field serde_fields[] = {
	F("Name", "name", MS_F_STR, 0, MS_NAME_MAX, NULL),
	F("SerializationLibrary", "serializationLibrary", MS_F_STR, 0, MS_NAME_MAX, NULL),
	F("Parameters", "parameters", MS_F_PARAMS, 0, 0, NULL),
};

static const ms_field skewed_fields[] = {
	F("SkewedColumnNames", "skewedColumnNames", MS_F_STRLIST, MS_FF_ELEMNAME, MS_NAME_MAX, NULL),
	F("SkewedColumnValues", "skewedColumnValues", MS_F_STRLIST, 0, 0, NULL),
	F("SkewedColumnValueLocationMaps", "skewedColumnValueLocationMaps", MS_F_MAP, 0, 0, NULL),
};

static const ms_field order_fields[] = {
	F("Column", "column", MS_F_NAME, MS_FF_REQUIRED, MS_NAME_MAX, NULL),
	F("SortOrder", "order", MS_F_INT, MS_FF_REQUIRED, 0, NULL),
};

static const ms_field sd_fields[] = {
	F("Columns", "columns", MS_F_OBJLIST, 0, 0, &schema_column),
	F("Location", "location", MS_F_STR, 0, MS_LOCATION_MAX, NULL),
	F("AdditionalLocations", "additionalLocations", MS_F_STRLIST, 0, MS_LOCATION_MAX, NULL),
	F("InputFormat", "inputFormat", MS_F_STR, 0, 0, NULL),
	F("OutputFormat", "outputFormat", MS_F_STR, 0, 0, NULL),
	F("Compressed", "compressed", MS_F_BOOL, 0, 0, NULL),
	F("NumberOfBuckets", "numberOfBuckets", MS_F_INT, 0, 0, NULL),
	F("SerdeInfo", "serdeInfo", MS_F_OBJ, 0, 0, &schema_serde),
	F("BucketColumns", "bucketColumns", MS_F_STRLIST, MS_FF_ELEMNAME, MS_NAME_MAX, NULL),
	F("SortColumns", "sortColumns", MS_F_OBJLIST, 0, 0, &schema_order),
	F("Parameters", "parameters", MS_F_PARAMS, 0, 0, NULL),
	F("SkewedInfo", "skewedInfo", MS_F_OBJ, 0, 0, &schema_skewed),
	F("StoredAsSubDirectories", "storedAsSubDirectories", MS_F_BOOL, 0, 0, NULL),
	F("SchemaReference", "schemaReference", MS_F_GOBJ, 0, 0, NULL),
};

static const ms_field database_fields[] = {
	F("Name", "name", MS_F_NAME, MS_FF_REQUIRED | MS_FF_FOLD | MS_FF_ENTNAME, MS_NAME_MAX, NULL),
	F("Description", "description", MS_F_STR, 0, MS_DESCRIPTION_MAX, NULL),
	F("LocationUri", "locationUri", MS_F_STR, 0, MS_LOCATION_MAX, NULL),
	F("Parameters", "parameters", MS_F_PARAMS, 0, 0, NULL),
	F("CreateTime", "createTime", MS_F_TIME, 0, 0, NULL),
	F("CatalogId", "catalogId", MS_F_STR, 0, MS_NAME_MAX, NULL),
	F("CreateTableDefaultPermissions", "createTableDefaultPermissions", MS_F_GARR, 0, 0, NULL),
	F("TargetDatabase", "targetDatabase", MS_F_GOBJ, 0, 0, NULL),
	F("FederatedDatabase", "federatedDatabase", MS_F_GOBJ, 0, 0, NULL),
};

static const ms_field table_fields[] = {
	F("Name", "name", MS_F_NAME, MS_FF_REQUIRED | MS_FF_FOLD | MS_FF_ENTNAME, MS_NAME_MAX, NULL),
	F("DatabaseName", "databaseName", MS_F_NAME, MS_FF_FOLD, MS_NAME_MAX, NULL),
	F("Description", "description", MS_F_STR, 0, MS_DESCRIPTION_MAX, NULL),
	F("Owner", "owner", MS_F_STR, 0, 0, NULL),
	F("CreateTime", "createTime", MS_F_TIME, 0, 0, NULL),
	F("UpdateTime", "updateTime", MS_F_TIME, 0, 0, NULL),
	F("LastAccessTime", "lastAccessTime", MS_F_TIME, 0, 0, NULL),
	F("LastAnalyzedTime", "lastAnalyzedTime", MS_F_TIME, 0, 0, NULL),
	F("Retention", "retention", MS_F_INT, 0, 0, NULL),
	F("StorageDescriptor", "storageDescriptor", MS_F_OBJ, 0, 0, &ms_schema_sd),
	F("PartitionKeys", "partitionKeys", MS_F_OBJLIST, 0, 0, &schema_column),
	F("ViewOriginalText", "viewOriginalText", MS_F_STR, 0, MS_VIEW_TEXT_MAX, NULL),
	F("ViewExpandedText", "viewExpandedText", MS_F_STR, 0, MS_VIEW_TEXT_MAX, NULL),
	F("TableType", "tableType", MS_F_STR, 0, MS_NAME_MAX, NULL),
	F("Parameters", "parameters", MS_F_PARAMS, 0, 0, NULL),
	F("CreatedBy", "createdBy", MS_F_STR, 0, 0, NULL),
	F("IsRegisteredWithLakeFormation", "isRegisteredWithLakeFormation", MS_F_BOOL, 0, 0, NULL),
	F("TargetTable", "targetTable", MS_F_GOBJ, 0, 0, NULL),
	F("CatalogId", "catalogId", MS_F_STR, 0, MS_NAME_MAX, NULL),
	F("VersionId", "versionId", MS_F_STR, 0, 0, NULL),
	F("FederatedTable", "federatedTable", MS_F_GOBJ, 0, 0, NULL),
	F("ViewDefinition", "viewDefinition", MS_F_GOBJ, 0, 0, NULL),
	F("IsMultiDialectView", "isMultiDialectView", MS_F_BOOL, 0, 0, NULL),
};

static const ms_field partition_fields[] = {
	F("Values", "values", MS_F_STRLIST, MS_FF_REQUIRED, MS_VALUE_MAX, NULL),
	F("DatabaseName", "namespaceName", MS_F_NAME, MS_FF_FOLD, MS_NAME_MAX, NULL),
	F("TableName", "tableName", MS_F_NAME, MS_FF_FOLD, MS_NAME_MAX, NULL),
	F("CreationTime", "creationTime", MS_F_TIME, 0, 0, NULL),
	F("LastAccessTime", "lastAccessTime", MS_F_TIME, 0, 0, NULL),
	F("StorageDescriptor", "storageDescriptor", MS_F_OBJ, 0, 0, &ms_schema_sd),
	F("Parameters", "parameters", MS_F_PARAMS, 0, 0, NULL),
	F("LastAnalyzedTime", "lastAnalyzedTime", MS_F_TIME, 0, 0, NULL),
	F("CatalogId", "catalogId", MS_F_STR, 0, MS_NAME_MAX, NULL),
};

#define SCHEMA(what, subject, fields) { what, subject, fields, NFIELDS(fields), 0, { 0 }, { 0 } }

static ms_schema schema_column = SCHEMA("column", NULL, column_fields);
static ms_schema schema_serde = SCHEMA("serde", NULL, serde_fields);
static ms_schema schema_skewed = SCHEMA("skewed info", NULL, skewed_fields);
static ms_schema schema_order = SCHEMA("sort column", NULL, order_fields);
ms_schema ms_schema_sd = SCHEMA("storage descriptor", NULL, sd_fields);
ms_schema ms_schema_database = SCHEMA("database", "database name", database_fields);
ms_schema ms_schema_table = SCHEMA("table", "table name", table_fields);
ms_schema ms_schema_partition = SCHEMA("partition", NULL, partition_fields);

static ms_schema *const all_schemas[] = {
	&schema_column, &schema_serde, &schema_skewed, &schema_order, &ms_schema_sd,
	&ms_schema_database, &ms_schema_table, &ms_schema_partition,
};

/* Cheap on purpose: length and three bytes tell the model's keys apart. */
static inline unsigned key_hash(const char *k, size_t len)
{
	uint32_t h = (uint32_t)len * 0x9E3779B1u;

	if (len)
		h ^= (unsigned char)k[0] * 0x85EBCA77u ^ (unsigned char)k[len - 1] * 0xC2B2AE3Du ^
		     (unsigned char)k[len / 2] * 0x27D4EB2Fu;
	return (unsigned)(h ^ (h >> 13) ^ (h >> 21));
}

static void schema_insert(ms_schema *s, const char *key, unsigned value)
{
	size_t len = strlen(key);
	unsigned i = key_hash(key, len) & (MS_SCHEMA_SLOTS - 1);

	while (s->slot[i])
		i = (i + 1) & (MS_SCHEMA_SLOTS - 1);
	s->slot[i] = (unsigned char)value;
	s->slot_len[i] = (unsigned char)len;
}

static void schemas_build(void)
{
	size_t k;
	unsigned i;

	for (k = 0; k < sizeof(all_schemas) / sizeof(all_schemas[0]); k++) {
		ms_schema *s = all_schemas[k];

		for (i = 0; i < s->nfields; i++) {
			schema_insert(s, s->fields[i].glue, 1 + 2 * i);
			schema_insert(s, s->fields[i].line, 1 + 2 * i + 1);
			if (s->fields[i].flags & MS_FF_REQUIRED)
				s->required |= (uint64_t)1 << i;
		}
	}
}

static pthread_once_t schemas_once = PTHREAD_ONCE_INIT;

void ms_model_init(void)
{
	pthread_once(&schemas_once, schemas_build);
}

const ms_field *ms_schema_find(const ms_schema *s, const char *key, int *line_spelling)
{
	return ms_schema_find_n(s, key, strlen(key), line_spelling);
}

const ms_field *ms_schema_find_n(const ms_schema *s, const char *key, size_t len,
				 int *line_spelling)
{
	unsigned i = key_hash(key, len) & (MS_SCHEMA_SLOTS - 1), v;

	while ((v = s->slot[i]) != 0) {
		const ms_field *f = &s->fields[(v - 1) / 2];
		int line = (v - 1) & 1;

		if (s->slot_len[i] == len && !memcmp(line ? f->line : f->glue, key, len)) {
			*line_spelling = line;
			return f;
		}
		i = (i + 1) & (MS_SCHEMA_SLOTS - 1);
	}
	return NULL;
}

int ms_schema_index(const ms_schema *s, const ms_field *f)
{
	return (int)(f - s->fields);
}

const ms_schema *ms_schema_for(ms_kind kind)
{
	switch (kind) {
	case MS_KIND_DATABASE: return &ms_schema_database;
	case MS_KIND_TABLE: return &ms_schema_table;
	case MS_KIND_PARTITION: return &ms_schema_partition;
	default: return NULL;
	}
}
