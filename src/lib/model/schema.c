/*
 * The model's field tables: every object Glue defines for databases, tables
 * and partitions, field by field, with the name Glue's API gives it, the
 * name the migration utility's snapshot lines give it, its type and
 * Glue's constraints on it (length, characters, range), and whether Glue's
 * *Input shapes have it.  Both codecs and the validator are driven by these tables, so
 * a field Glue adds later is one line here.  Lookups go through a small
 * open-addressing table per object, built once, because the importer looks
 * up tens of keys per line for millions of lines.
 */
#include "model_internal.h"

#include <pthread.h>

/*
 * Glue's shapes (service-2.json of the Glue API, 2017-03-31) as the
 * constraints of a field: type, characters, least, most.  Strings count
 * characters (code points); a most of 0 is no limit.
 */
#define NAME_STRING MS_F_STR, MS_TX_LINE, 1, MS_NAME_MAX /* also CatalogIdString, VersionString */
#define NAME_STRING_LIST MS_F_STRLIST, MS_TX_LINE, 1, MS_NAME_MAX
#define DESCRIPTION_STRING MS_F_STR, MS_TX_TEXT, 0, MS_DESCRIPTION_MAX
#define URI_STRING MS_F_STR, MS_TX_TEXT, 1, MS_URI_MAX
#define LOCATION_STRING MS_F_STR, MS_TX_TEXT, 0, MS_LOCATION_MAX
#define LOCATION_STRING_LIST MS_F_STRLIST, MS_TX_TEXT, 0, MS_LOCATION_MAX
#define FORMAT_STRING MS_F_STR, MS_TX_LINE, 0, MS_FORMAT_MAX
#define COLUMN_TYPE_STRING MS_F_STR, MS_TX_LINE, 0, MS_COLUMN_TYPE_MAX
#define COMMENT_STRING MS_F_STR, MS_TX_LINE, 0, MS_COMMENT_MAX
#define VIEW_TEXT_STRING MS_F_STR, MS_TX_ANY, 0, MS_VIEW_TEXT_MAX
#define TABLE_TYPE_STRING MS_F_STR, MS_TX_ANY, 0, MS_TABLE_TYPE_MAX
#define FEDERATION_IDENTIFIER MS_F_STR, MS_TX_LINE, 1, 512
#define VALUE_STRING_LIST MS_F_STRLIST, MS_TX_ANY, 1, MS_VALUE_MAX
#define COLUMN_VALUE_STRING_LIST MS_F_STRLIST, MS_TX_ANY, 0, 0
#define INTEGER MS_F_INT, MS_TX_ANY, INT32_MIN, INT32_MAX
#define NON_NEGATIVE_INTEGER MS_F_INT, MS_TX_ANY, 0, INT32_MAX
#define INTEGER_FLAG MS_F_INT, MS_TX_ANY, 0, 1
#define OF(type) type, MS_TX_ANY, 0, 0

#define F(g, l, shape, fl, sub) \
	{ \
		g, l, sub, fl, shape \
	}
#define NFIELDS(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))
#define OUT MS_FF_OUTPUT

static ms_schema schema_column, schema_serde, schema_skewed, schema_order;
static ms_schema schema_table_id, schema_database_id, schema_fed_database, schema_fed_table;

static const ms_field column_fields[] = {
	F("Name", "name", NAME_STRING, MS_FF_REQUIRED, NULL),
	F("Type", "type", COLUMN_TYPE_STRING, 0, NULL),
	F("Comment", "comment", COMMENT_STRING, 0, NULL),
	F("Parameters", "parameters", OF(MS_F_PARAMS), 0, NULL),
};

static const ms_field serde_fields[] = {
	F("Name", "name", NAME_STRING, 0, NULL),
	F("SerializationLibrary", "serializationLibrary", NAME_STRING, 0, NULL),
	F("Parameters", "parameters", OF(MS_F_PARAMS), 0, NULL),
};

static const ms_field skewed_fields[] = {
	F("SkewedColumnNames", "skewedColumnNames", NAME_STRING_LIST, 0, NULL),
	F("SkewedColumnValues", "skewedColumnValues", COLUMN_VALUE_STRING_LIST, 0, NULL),
	F("SkewedColumnValueLocationMaps", "skewedColumnValueLocationMaps", OF(MS_F_MAP), 0, NULL),
};

static const ms_field order_fields[] = {
	F("Column", "column", NAME_STRING, MS_FF_REQUIRED, NULL),
	F("SortOrder", "order", INTEGER_FLAG, MS_FF_REQUIRED, NULL),
};

static const ms_field sd_fields[] = {
	F("Columns", "columns", OF(MS_F_OBJLIST), 0, &schema_column),
	F("Location", "location", LOCATION_STRING, 0, NULL),
	F("AdditionalLocations", "additionalLocations", LOCATION_STRING_LIST, 0, NULL),
	F("InputFormat", "inputFormat", FORMAT_STRING, 0, NULL),
	F("OutputFormat", "outputFormat", FORMAT_STRING, 0, NULL),
	F("Compressed", "compressed", OF(MS_F_BOOL), 0, NULL),
	F("NumberOfBuckets", "numberOfBuckets", INTEGER, 0, NULL),
	F("SerdeInfo", "serdeInfo", OF(MS_F_OBJ), 0, &schema_serde),
	F("BucketColumns", "bucketColumns", NAME_STRING_LIST, 0, NULL),
	F("SortColumns", "sortColumns", OF(MS_F_OBJLIST), 0, &schema_order),
	F("Parameters", "parameters", OF(MS_F_PARAMS), 0, NULL),
	F("SkewedInfo", "skewedInfo", OF(MS_F_OBJ), 0, &schema_skewed),
	F("StoredAsSubDirectories", "storedAsSubDirectories", OF(MS_F_BOOL), 0, NULL),
	F("SchemaReference", "schemaReference", OF(MS_F_GOBJ), 0, NULL),
};

/*
 * TableIdentifier and FederatedTable; DatabaseIdentifier and
 * FederatedDatabase are their first members (ID_FIELDS).
 */
static const ms_field table_id_fields[] = {
	F("CatalogId", "catalogId", NAME_STRING, 0, NULL),
	F("DatabaseName", "databaseName", NAME_STRING, 0, NULL),
	F("Region", "region", NAME_STRING, 0, NULL),
	F("Name", "name", NAME_STRING, 0, NULL),
};

static const ms_field fed_table_fields[] = {
	F("Identifier", "identifier", FEDERATION_IDENTIFIER, 0, NULL),
	F("ConnectionName", "connectionName", NAME_STRING, 0, NULL),
	F("ConnectionType", "connectionType", NAME_STRING, 0, NULL),
	F("DatabaseIdentifier", "databaseIdentifier", FEDERATION_IDENTIFIER, 0, NULL),
};

/*
 * Members of Glue's newer models (FederatedDatabase, ViewDefinition, ...)
 * are here too: documents read from Glue carry them.  (Not Table.Status: it
 * holds a whole Table, whose Parameters keys a Glue-only structure's key
 * conversion would change; it stays a member the model does not know.)  OUT
 * marks the members of Database, Table and Partition that DatabaseInput,
 * TableInput and PartitionInput lack.
 */
static const ms_field database_fields[] = {
	F("Name", "name", NAME_STRING, MS_FF_REQUIRED | MS_FF_FOLD | MS_FF_ENTNAME, NULL),
	F("Description", "description", DESCRIPTION_STRING, 0, NULL),
	F("LocationUri", "locationUri", URI_STRING, 0, NULL),
	F("Parameters", "parameters", OF(MS_F_PARAMS), 0, NULL),
	F("CreateTime", "createTime", OF(MS_F_TIME), OUT, NULL),
	F("CatalogId", "catalogId", NAME_STRING, OUT, NULL),
	F("CreateTableDefaultPermissions", "createTableDefaultPermissions", OF(MS_F_GARR), 0, NULL),
	F("TargetDatabase", "targetDatabase", OF(MS_F_GOBJ), 0, &schema_database_id),
	F("FederatedDatabase", "federatedDatabase", OF(MS_F_GOBJ), 0, &schema_fed_database),
};

static const ms_field table_fields[] = {
	F("Name", "name", NAME_STRING, MS_FF_REQUIRED | MS_FF_FOLD | MS_FF_ENTNAME, NULL),
	F("DatabaseName", "databaseName", NAME_STRING, MS_FF_FOLD | OUT, NULL),
	F("Description", "description", DESCRIPTION_STRING, 0, NULL),
	F("Owner", "owner", NAME_STRING, 0, NULL),
	F("CreateTime", "createTime", OF(MS_F_TIME), OUT, NULL),
	F("UpdateTime", "updateTime", OF(MS_F_TIME), OUT, NULL),
	F("LastAccessTime", "lastAccessTime", OF(MS_F_TIME), 0, NULL),
	F("LastAnalyzedTime", "lastAnalyzedTime", OF(MS_F_TIME), 0, NULL),
	F("Retention", "retention", NON_NEGATIVE_INTEGER, 0, NULL),
	F("StorageDescriptor", "storageDescriptor", OF(MS_F_OBJ), 0, &ms_schema_sd),
	F("PartitionKeys", "partitionKeys", OF(MS_F_OBJLIST), 0, &schema_column),
	F("ViewOriginalText", "viewOriginalText", VIEW_TEXT_STRING, 0, NULL),
	F("ViewExpandedText", "viewExpandedText", VIEW_TEXT_STRING, 0, NULL),
	F("TableType", "tableType", TABLE_TYPE_STRING, 0, NULL),
	F("Parameters", "parameters", OF(MS_F_PARAMS), 0, NULL),
	F("CreatedBy", "createdBy", NAME_STRING, OUT, NULL),
	F("IsRegisteredWithLakeFormation", "isRegisteredWithLakeFormation", OF(MS_F_BOOL), OUT,
	  NULL),
	F("TargetTable", "targetTable", OF(MS_F_GOBJ), 0, &schema_table_id),
	F("CatalogId", "catalogId", NAME_STRING, OUT, NULL),
	F("VersionId", "versionId", NAME_STRING, OUT, NULL),
	F("FederatedTable", "federatedTable", OF(MS_F_GOBJ), OUT, &schema_fed_table),
	F("ViewDefinition", "viewDefinition", OF(MS_F_GOBJ), 0, NULL),
	F("IsMultiDialectView", "isMultiDialectView", OF(MS_F_BOOL), OUT, NULL),
	F("IsMaterializedView", "isMaterializedView", OF(MS_F_BOOL), OUT, NULL),
};

static const ms_field partition_fields[] = {
	F("Values", "values", VALUE_STRING_LIST, MS_FF_REQUIRED, NULL),
	F("DatabaseName", "namespaceName", NAME_STRING, MS_FF_FOLD | OUT, NULL),
	F("TableName", "tableName", NAME_STRING, MS_FF_FOLD | OUT, NULL),
	F("CreationTime", "creationTime", OF(MS_F_TIME), OUT, NULL),
	F("LastAccessTime", "lastAccessTime", OF(MS_F_TIME), 0, NULL),
	F("StorageDescriptor", "storageDescriptor", OF(MS_F_OBJ), 0, &ms_schema_sd),
	F("Parameters", "parameters", OF(MS_F_PARAMS), 0, NULL),
	F("LastAnalyzedTime", "lastAnalyzedTime", OF(MS_F_TIME), 0, NULL),
	F("CatalogId", "catalogId", NAME_STRING, OUT, NULL),
};

#define SCHEMA(shape, subject, fields) \
	{ \
		shape, subject, fields, NFIELDS(fields), 0, { 0 }, \
		{ \
			0 \
		} \
	}
#define ID_FIELDS(shape, fields) \
	{ \
		shape, NULL, fields, NFIELDS(fields) - 1, 0, { 0 }, \
		{ \
			0 \
		} \
	}

static ms_schema schema_column = SCHEMA("Column", NULL, column_fields);
static ms_schema schema_serde = SCHEMA("SerDeInfo", NULL, serde_fields);
static ms_schema schema_skewed = SCHEMA("SkewedInfo", NULL, skewed_fields);
static ms_schema schema_order = SCHEMA("Order", NULL, order_fields);
static ms_schema schema_table_id = SCHEMA("TableIdentifier", NULL, table_id_fields);
static ms_schema schema_database_id = ID_FIELDS("DatabaseIdentifier", table_id_fields);
static ms_schema schema_fed_database = ID_FIELDS("FederatedDatabase", fed_table_fields);
static ms_schema schema_fed_table = SCHEMA("FederatedTable", NULL, fed_table_fields);
ms_schema ms_schema_sd = SCHEMA("StorageDescriptor", NULL, sd_fields);
ms_schema ms_schema_database = SCHEMA("Database", "database name", database_fields);
ms_schema ms_schema_table = SCHEMA("Table", "table name", table_fields);
ms_schema ms_schema_partition = SCHEMA("Partition", NULL, partition_fields);

static ms_schema *const all_schemas[] = {
	&schema_column,   &schema_serde,       &schema_skewed,       &schema_order,
	&schema_table_id, &schema_database_id, &schema_fed_database, &schema_fed_table,
	&ms_schema_sd,    &ms_schema_database, &ms_schema_table,     &ms_schema_partition,
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
	case MS_KIND_DATABASE:
		return &ms_schema_database;
	case MS_KIND_TABLE:
		return &ms_schema_table;
	case MS_KIND_PARTITION:
		return &ms_schema_partition;
	default:
		return NULL;
	}
}
