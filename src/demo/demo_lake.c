/*
 * The demo's lake as data: 25 databases of six tables each, owned by teams
 * with their own formats and partition layouts, the columns of the tables
 * the views read, a pool of columns for the others, and ten views in three
 * dialects.  Fixed, so that every run generates the same catalog.
 */
#include "demo_internal.h"

#define T(n, f, l) \
	{ \
		n, f, l, NULL, 0, NULL, \
		{ \
			NULL \
		} \
	}
#define TC(n, f, l, c) \
	{ \
		n, f, l, c, sizeof(c) / sizeof((c)[0]), NULL, \
		{ \
			NULL \
		} \
	}
#define TS(n, l, c, k, v1, v2, v3) \
	{ \
		n, F_SKEWED, l, c, sizeof(c) / sizeof((c)[0]), k, \
		{ \
			v1, v2, v3 \
		} \
	}

static const col c_orders[] = {
	{ "order_id", "bigint", "order number, unique across channels" },
	{ "customer_id", "bigint", "acme customer number" },
	{ "order_ts", "timestamp", "when the order was placed (UTC)" },
	{ "store_id", "int", "selling store; 0 for online orders" },
	{ "channel", "string", "web, app, store or partner" },
	{ "currency", "string", "ISO 4217 code" },
	{ "amount", "decimal(12,2)", "order total incl. tax, in currency" },
	{ "status", "string", "PLACED, SHIPPED, DELIVERED or CANCELLED" },
};
static const col c_invoices[] = {
	{ "invoice_id", "string", "invoice number, INV-yyyy-nnnnnnn" },
	{ "order_id", "bigint", "the order invoiced" },
	{ "customer_id", "bigint", "acme customer number" },
	{ "invoice_date", "date", NULL },
	{ "due_date", "date", "payment due date" },
	{ "amount", "decimal(12,2)", "invoice total, in currency" },
	{ "currency", "string", "ISO 4217 code" },
	{ "invoice_status", "string", "OPEN, PAID, OVERDUE or VOID" },
};
static const col c_payments[] = {
	{ "payment_id", "string", "payment reference from the PSP" },
	{ "invoice_id", "string", "the invoice paid" },
	{ "paid_at", "timestamp", "settlement time (UTC)" },
	{ "amount", "decimal(12,2)", "amount settled, in invoice currency" },
	{ "method", "string", "card, sepa, ach or wire" },
};
static const col c_ad_clicks[] = {
	{ "click_id", "string", "click identifier from the ad server" },
	{ "campaign_id", "string", "campaign the ad belongs to" },
	{ "user_id", "bigint", "signed-in user, null for guests" },
	{ "customer_id", "bigint", "resolved customer, null when unknown" },
	{ "click_ts", "timestamp", "click time (UTC)" },
	{ "placement", "string", "ad slot" },
	{ "cost_micros", "bigint", "cost of the click in micro-units of USD" },
};
static const col c_orders_enriched[] = {
	{ "order_id", "bigint", "order number" },
	{ "customer_id", "bigint", "acme customer number" },
	{ "order_ts", "timestamp", "when the order was placed (UTC)" },
	{ "amount", "decimal(12,2)", "order total incl. tax" },
	{ "campaign_id", "string", "last-touch campaign, null when organic" },
	{ "first_order", "boolean", "true for the customer's first order" },
	{ "segment", "string", "customer segment at order time" },
};
static const col c_employees[] = {
	{ "employee_id", "bigint", "HR system employee number" },
	{ "full_name", "string", "restricted: PII" },
	{ "department_id", "int", NULL },
	{ "title", "string", "job title" },
	{ "hire_date", "date", NULL },
	{ "employment_status", "string", "ACTIVE, LEAVE or TERMINATED" },
	{ "manager_id", "bigint", "employee_id of the manager" },
};
static const col c_departments[] = {
	{ "department_id", "int", NULL },
	{ "department_name", "string", NULL },
	{ "cost_center", "string", "finance cost center code" },
	{ "head_employee_id", "bigint", NULL },
};
static const col c_sensor_readings[] = {
	{ "device_id", "string", "device serial number" },
	{ "reading_ts", "timestamp", "measurement time on the device (UTC)" },
	{ "metric", "string", "temperature_c, humidity_pct, vibration_rms, ..." },
	{ "value", "double", NULL },
	{ "unit", "string", NULL },
	{ "quality", "int", "0 = good, 1 = uncertain, 2 = bad" },
};
static const col c_devices[] = {
	{ "device_id", "string", "device serial number" },
	{ "model", "string", "hardware model" },
	{ "site_id", "string", "installation site" },
	{ "installed_at", "date", NULL },
	{ "firmware_version", "string", NULL },
	{ "status", "string", "ACTIVE, RETIRED or RMA" },
};
static const col c_shipments[] = {
	{ "_hoodie_commit_time", "string", NULL },
	{ "_hoodie_commit_seqno", "string", NULL },
	{ "_hoodie_record_key", "string", NULL },
	{ "_hoodie_partition_path", "string", NULL },
	{ "_hoodie_file_name", "string", NULL },
	{ "shipment_id", "string", "carrier-independent shipment number" },
	{ "order_id", "bigint", "the order shipped" },
	{ "warehouse_id", "string", "shipping warehouse" },
	{ "carrier", "string", NULL },
	{ "promised_at", "timestamp", "promised delivery time (UTC)" },
	{ "delivered_at", "timestamp", "null until delivered" },
	{ "status", "string", NULL },
	{ "updated_at", "timestamp", "precombine field" },
};
const col *const demo_hudi_meta = c_shipments;
static const col c_warehouses[] = {
	{ "warehouse_id", "string", NULL },
	{ "name", "string", NULL },
	{ "region", "string", "sales region served" },
	{ "city", "string", NULL },
	{ "capacity_pallets", "int", NULL },
	{ "opened_on", "date", NULL },
};
static const col c_page_views[] = {
	{ "view_id", "string", "page view identifier" },
	{ "session_id", "string", NULL },
	{ "user_id", "bigint", "signed-in user, null for guests" },
	{ "url", "string", "page URL without query string" },
	{ "referrer", "string", NULL },
	{ "country", "string", "ISO 3166-1 alpha-2 from GeoIP" },
	{ "device_type", "string", "desktop, mobile or tablet" },
	{ "event_ts", "timestamp", "client time corrected by server offset (UTC)" },
};
static const col c_gps_traces[] = {
	{ "device_id", "string", NULL },
	{ "fix_ts", "timestamp", "GPS fix time (UTC)" },
	{ "latitude", "double", NULL },
	{ "longitude", "double", NULL },
	{ "speed_kmh", "double", NULL },
	{ "heading_deg", "int", NULL },
	{ "accuracy_m", "double", "horizontal accuracy" },
	{ "vehicle_type", "string", "truck, van or bike" },
};
static const col c_sessions[] = {
	{ "session_id", "string", NULL },
	{ "user_id", "bigint", "signed-in user, null for guests" },
	{ "started_at", "timestamp", NULL },
	{ "ended_at", "timestamp", NULL },
	{ "landing_page", "string", NULL },
	{ "converted", "boolean", "placed an order in the session" },
	{ "source", "string", "utm_source or referrer class" },
};
static const col c_customers[] = {
	{ "customer_id", "bigint", "acme customer number" },
	{ "email", "string", "restricted: PII" },
	{ "full_name", "string", "restricted: PII" },
	{ "country", "string", "ISO 3166-1 alpha-2" },
	{ "signup_date", "date", NULL },
	{ "segment", "string", "consumer, smb or enterprise" },
	{ "lifetime_value", "decimal(14,2)", "net revenue to date, USD" },
};
static const col c_tickets[] = {
	{ "ticket_id", "string", NULL },
	{ "customer_id", "bigint", NULL },
	{ "opened_at", "timestamp", NULL },
	{ "closed_at", "timestamp", NULL },
	{ "priority", "string", "P1 to P4" },
	{ "category", "string", NULL },
	{ "status", "string", "OPEN, PENDING or CLOSED" },
	{ "csat_score", "int", "1 to 5, null when not rated" },
};
static const col c_login_events[] = {
	{ "event_id", "string", NULL },
	{ "user_name", "string", NULL },
	{ "source_ip", "string", NULL },
	{ "event_ts", "timestamp", NULL },
	{ "outcome", "string", "SUCCESS or FAILURE" },
	{ "mfa_used", "boolean", NULL },
	{ "user_agent", "string", NULL },
	{ "country", "string", "GeoIP country of source_ip" },
};
static const col c_email_sends[] = {
	{ "send_id", "string", NULL },     { "campaign_id", "string", NULL },
	{ "customer_id", "bigint", NULL }, { "template", "string", "email template name" },
	{ "sent_at", "timestamp", NULL },  { "provider", "string", "ESP that delivered the mail" },
};
static const col c_email_opens[] = {
	{ "send_id", "string", NULL },
	{ "opened_at", "timestamp", NULL },
	{ "client", "string", "mail client family" },
	{ "is_bot", "boolean", "prefetch by a privacy proxy" },
};

const col demo_pool[] = {
	{ "event_ts", "timestamp", "when the event happened (UTC)" },
	{ "created_at", "timestamp", "row creation time (UTC)" },
	{ "updated_at", "timestamp", "last update time (UTC)" },
	{ "customer_id", "bigint", "acme customer number" },
	{ "user_id", "bigint", "signed-in user, null for guests" },
	{ "account_id", "string", "billing account" },
	{ "country_code", "string", "ISO 3166-1 alpha-2" },
	{ "currency", "string", "ISO 4217 code" },
	{ "amount", "decimal(12,2)", "amount in currency" },
	{ "quantity", "int", NULL },
	{ "unit_price", "decimal(10,2)", NULL },
	{ "status", "string", NULL },
	{ "source_system", "string", "system that produced the row" },
	{ "channel", "string", "web, app, store or partner" },
	{ "sku", "string", "stock keeping unit" },
	{ "store_id", "int", NULL },
	{ "device_id", "string", NULL },
	{ "session_id", "string", NULL },
	{ "ip_address", "string", "restricted: PII" },
	{ "user_agent", "string", NULL },
	{ "latitude", "double", NULL },
	{ "longitude", "double", NULL },
	{ "duration_ms", "bigint", NULL },
	{ "score", "double", "model score in [0, 1]" },
	{ "is_test", "boolean", "true for synthetic test traffic" },
	{ "tags", "array<string>", NULL },
	{ "attributes", "map<string,string>", "free-form attributes from the producer" },
	{ "metadata", "struct<source:string,version:int,ingested_at:timestamp>",
	  "ingestion metadata" },
	{ "description", "string", NULL },
	{ "name", "string", NULL },
	{ "email_hash", "string", "SHA-256 of the lower-cased email" },
	{ "revenue", "decimal(14,2)", "net revenue, USD" },
	{ "cost", "decimal(14,2)", "fully loaded cost, USD" },
	{ "category", "string", NULL },
	{ "priority", "int", NULL },
	{ "record_version", "int", "schema version of the producer" },
	{ "batch_id", "string", "loader batch" },
	{ "warehouse_id", "string", NULL },
	{ "supplier_id", "string", NULL },
	{ "comment_text", "string", NULL },
};
_Static_assert(sizeof(demo_pool) / sizeof(demo_pool[0]) == DEMO_POOL_SIZE,
	       "DEMO_POOL_SIZE is the number of columns in the pool");

const dbspec demo_lake[DEMO_DATABASES] = {
	{ "sales_raw",
	  "sales",
	  "internal",
	  "Orders and point-of-sale data as landed from the shop systems",
	  { TC("orders", F_PARQUET, P_HOUR, c_orders), T("order_items", F_PARQUET, P_HOUR),
	    T("returns", F_JSON, P_DT), T("pos_transactions", F_JSON, P_REGION),
	    T("web_orders_json", F_JSON, P_HOUR), T("price_changes", F_CSV, P_DT) } },
	{ "sales_curated",
	  "sales",
	  "internal",
	  "Cleaned, deduplicated and enriched sales data",
	  { TC("orders_enriched", F_PARQUET, P_DT, c_orders_enriched),
	    TC("customers", F_ICEBERG, P_NONE, c_customers), T("order_facts", F_ORC, P_DT),
	    T("daily_sales", F_PARQUET, P_REGION), T("product_sales", F_PARQUET, P_DT),
	    T("store_dim", F_PARQUET, P_NONE) } },
	{ "sales_reporting",
	  "sales",
	  "internal",
	  "Aggregates behind the sales dashboards",
	  { T("revenue_by_region", F_PARQUET, P_REGION), T("top_products", F_PARQUET, P_DT),
	    T("sales_targets", F_CSV, P_NONE), T("rep_performance", F_PARQUET, P_DT),
	    T("quota_attainment", F_PARQUET, P_DT), T("weekly_kpis", F_PARQUET, P_DT) } },
	{ "marketing_events",
	  "marketing",
	  "internal",
	  "Ad server and email events",
	  { T("ad_impressions", F_JSON, P_HOUR), TC("ad_clicks", F_JSON, P_HOUR, c_ad_clicks),
	    TC("email_sends", F_AVRO, P_DT, c_email_sends),
	    TC("email_opens", F_AVRO, P_DT, c_email_opens), T("web_signups", F_JSON, P_DT),
	    T("utm_touches", F_PARQUET, P_HOUR) } },
	{ "marketing_campaigns",
	  "marketing",
	  "internal",
	  "Campaign plans, spend and attribution",
	  { T("campaigns", F_PARQUET, P_NONE), T("campaign_spend", F_CSV, P_DT),
	    T("audiences", F_DELTA, P_NONE), T("creative_assets", F_JSON, P_NONE),
	    T("attribution_touchpoints", F_PARQUET, P_DT), T("budget_plans", F_OPENCSV, P_NONE) } },
	{ "finance_ledger",
	  "finance",
	  "confidential",
	  "General ledger, invoices and payments",
	  { TC("invoices", F_PARQUET, P_DT, c_invoices),
	    TC("payments", F_PARQUET, P_DT, c_payments), T("journal_entries", F_ORC, P_DT),
	    T("gl_accounts", F_CSV, P_NONE), T("fx_rates", F_CSV, P_DT),
	    T("refunds", F_JSON, P_DT) } },
	{ "finance_reporting",
	  "finance",
	  "confidential",
	  "Month-end close and management reporting",
	  { T("ar_aging", F_PARQUET, P_DT), T("monthly_close", F_PARQUET, P_DT),
	    T("cost_centers", F_PARQUET, P_NONE), T("budget_vs_actual", F_PARQUET, P_DT),
	    T("revenue_recognition", F_ICEBERG, P_NONE), T("tax_summaries", F_CSV, P_REGION) } },
	{ "hr_people",
	  "hr",
	  "restricted",
	  "Daily snapshots of the HR system",
	  { TC("employees", F_PARQUET, P_DT, c_employees),
	    TC("departments", F_CSV, P_NONE, c_departments), T("job_history", F_PARQUET, P_DT),
	    T("org_chart", F_JSON, P_DT), T("time_off", F_PARQUET, P_DT),
	    T("onboarding_events", F_JSON, P_DT) } },
	{ "hr_payroll",
	  "hr",
	  "restricted",
	  "Payroll runs, payslips and benefits",
	  { T("payslips", F_ORC, P_DT), T("salary_bands", F_CSV, P_NONE),
	    T("benefits_enrollment", F_PARQUET, P_DT), T("expense_claims", F_JSON, P_DT),
	    T("payroll_runs", F_PARQUET, P_DT), T("tax_withholding", F_PARQUET, P_REGION) } },
	{ "iot_telemetry",
	  "iot",
	  "internal",
	  "High-volume telemetry from field devices",
	  { TC("sensor_readings", F_PARQUET, P_HOUR, c_sensor_readings),
	    T("device_heartbeats", F_JSON, P_HOUR), T("alarms", F_JSON, P_HOUR),
	    TS("gps_traces", P_REGION, c_gps_traces, "vehicle_type", "truck", "van", "bike"),
	    T("firmware_logs", F_JSON, P_HOUR), T("battery_metrics", F_PARQUET, P_HOUR) } },
	{ "iot_devices",
	  "iot",
	  "internal",
	  "Device registry, models and field service",
	  { TC("devices", F_PARQUET, P_NONE, c_devices), T("device_models", F_CSV, P_NONE),
	    T("firmware_releases", F_JSON, P_NONE), T("installations", F_PARQUET, P_REGION),
	    T("maintenance_visits", F_PARQUET, P_DT), T("device_state", F_HUDI, P_DT) } },
	{ "logistics_shipments",
	  "logistics",
	  "internal",
	  "Shipments and carrier tracking",
	  { TC("shipments", F_HUDI, P_DT, c_shipments), T("tracking_events", F_JSON, P_HOUR),
	    T("carriers", F_CSV, P_NONE), T("delivery_exceptions", F_JSON, P_DT),
	    T("route_plans", F_PARQUET, P_REGION), T("freight_costs", F_PARQUET, P_DT) } },
	{ "logistics_warehouse",
	  "logistics",
	  "internal",
	  "Warehouse operations and stock movements",
	  { TC("warehouses", F_PARQUET, P_NONE, c_warehouses),
	    T("stock_movements", F_PARQUET, P_HOUR), T("pick_lists", F_JSON, P_DT),
	    T("inventory_levels", F_ORC, P_REGION), T("dock_appointments", F_CSV, P_DT),
	    T("returns_processing", F_PARQUET, P_DT) } },
	{ "product_catalog",
	  "product",
	  "internal",
	  "The product master and its reviews",
	  { T("products", F_ICEBERG, P_NONE), T("categories", F_CSV, P_NONE),
	    T("product_prices", F_PARQUET, P_DT), T("product_reviews", F_JSON, P_DT),
	    T("suppliers", F_PARQUET, P_NONE), T("product_images", F_JSON, P_NONE) } },
	{ "product_analytics",
	  "product",
	  "internal",
	  "Feature usage, experiments and search",
	  { T("feature_usage", F_PARQUET, P_HOUR), T("experiments", F_PARQUET, P_NONE),
	    T("experiment_assignments", F_PARQUET, P_DT), T("search_queries", F_JSON, P_HOUR),
	    T("nps_responses", F_CSV, P_DT), T("release_metrics", F_PARQUET, P_DT) } },
	{ "web_clickstream",
	  "web",
	  "internal",
	  "Raw clickstream from the web and app trackers",
	  { TS("page_views", P_HOUR, c_page_views, "country", "US", "IN", "BR"),
	    T("clicks", F_JSON, P_HOUR), T("scroll_depth", F_PARQUET, P_HOUR),
	    T("js_errors", F_JSON, P_HOUR), T("cdn_logs", F_TSV, P_HOUR),
	    T("bot_traffic", F_PARQUET, P_DT) } },
	{ "web_sessions",
	  "web",
	  "internal",
	  "Sessionized clickstream",
	  { TC("sessions", F_PARQUET, P_HOUR, c_sessions), T("session_attributes", F_PARQUET, P_DT),
	    T("user_agents", F_CSV, P_NONE), T("geo_lookup", F_CSV, P_NONE),
	    T("conversions", F_PARQUET, P_DT), T("cart_events", F_JSON, P_HOUR) } },
	{ "support_tickets",
	  "support",
	  "confidential",
	  "Customer support tickets and surveys",
	  { TC("tickets", F_PARQUET, P_DT, c_tickets), T("ticket_comments", F_JSON, P_DT),
	    T("agents", F_CSV, P_NONE), T("sla_breaches", F_PARQUET, P_DT),
	    T("csat_surveys", F_JSON, P_DT), T("chat_transcripts", F_JSON, P_REGION) } },
	{ "security_audit",
	  "security",
	  "restricted",
	  "Authentication, API and network audit logs",
	  { TC("login_events", F_JSON, P_HOUR, c_login_events),
	    T("cloudtrail_events", F_JSON, P_REGION), T("vpc_flow_logs", F_PARQUET, P_REGION),
	    T("access_reviews", F_PARQUET, P_DT), T("vulnerability_scans", F_PARQUET, P_DT),
	    T("waf_logs", F_JSON, P_HOUR) } },
	{ "ml_features",
	  "ml",
	  "internal",
	  "Offline feature store",
	  { T("customer_features", F_PARQUET, P_DT), T("product_embeddings", F_PARQUET, P_DT),
	    T("session_features", F_PARQUET, P_HOUR), T("feature_definitions", F_JSON, P_NONE),
	    T("fraud_signals", F_DELTA, P_NONE), T("churn_features", F_PARQUET, P_DT) } },
	{ "ml_training",
	  "ml",
	  "internal",
	  "Training runs, evaluations and batch predictions",
	  { T("training_runs", F_JSON, P_DT), T("model_registry", F_PARQUET, P_NONE),
	    T("eval_metrics", F_PARQUET, P_DT), T("labeled_examples", F_PARQUET, P_DT),
	    T("predictions", F_PARQUET, P_HOUR), T("drift_reports", F_JSON, P_DT) } },
	{ "customer_360",
	  "customer",
	  "confidential",
	  "One view of the customer across channels",
	  { T("customer_profiles", F_PARQUET, P_NONE), T("identity_graph", F_ORC, P_DT),
	    T("consent_records", F_JSON, P_DT), T("loyalty_points", F_PARQUET, P_DT),
	    T("segments", F_PARQUET, P_DT), T("customer_events", F_HUDI, P_DT) } },
	{ "inventory_snapshots",
	  "inventory",
	  "internal",
	  "Nightly stock snapshots per location",
	  { T("stock_levels", F_PARQUET, P_REGION), T("reorder_points", F_CSV, P_NONE),
	    T("stock_adjustments", F_JSON, P_DT), T("cycle_counts", F_PARQUET, P_DT),
	    T("sku_master", F_ICEBERG, P_NONE), T("backorders", F_PARQUET, P_DT) } },
	{ "partner_feeds",
	  "partner",
	  "internal",
	  "Files and API data received from partners",
	  { T("affiliate_sales", F_CSV, P_DT), T("marketplace_orders", F_JSON, P_HOUR),
	    T("supplier_catalog", F_OPENCSV, P_DT), T("partner_accounts", F_PARQUET, P_NONE),
	    T("commission_statements", F_PARQUET, P_DT), T("api_usage", F_JSON, P_HOUR) } },
	{ "platform_ops",
	  "platform",
	  "internal",
	  "Data platform operations: jobs, cost, quality",
	  { T("job_runs", F_JSON, P_DT), T("cluster_metrics", F_PARQUET, P_HOUR),
	    T("cost_allocation", F_PARQUET, P_DT), T("data_quality_results", F_JSON, P_DT),
	    T("table_access_logs", F_JSON, P_HOUR), T("s3_inventory", F_ORC, P_DT) } },
};

static const vcol vc_order_invoices[] = {
	{ "order_id", "bigint", "bigint" },          { "customer_id", "bigint", "bigint" },
	{ "order_ts", "timestamp", "timestamp(3)" }, { "amount", "decimal(12,2)", "decimal(12,2)" },
	{ "currency", "string", "varchar" },         { "invoice_id", "string", "varchar" },
	{ "invoice_status", "string", "varchar" },   { "due_date", "date", "date" },
};
static const vcol vc_daily_revenue[] = {
	{ "order_date", "date", "date" },
	{ "currency", "string", "varchar" },
	{ "revenue", "decimal(22,2)", "decimal(22,2)" },
	{ "buyers", "bigint", "bigint" },
};
static const vcol vc_attribution[] = {
	{ "campaign_id", "string", "varchar" }, { "click_ts", "timestamp", "timestamp(3)" },
	{ "order_id", "bigint", "bigint" },     { "amount", "decimal(12,2)", "decimal(12,2)" },
	{ "segment", "string", "varchar" },
};
static const vcol vc_ar_aging[] = {
	{ "invoice_id", "string", "varchar" },  { "customer_id", "bigint", "bigint" },
	{ "due_date", "date", "date" },         { "open_amount", "decimal(13,2)", "decimal(13,2)" },
	{ "days_overdue", "bigint", "bigint" },
};
static const vcol vc_headcount[] = {
	{ "department_name", "string", "varchar" },
	{ "cost_center", "string", "varchar" },
	{ "headcount", "bigint", "bigint" },
};
static const vcol vc_device_health[] = {
	{ "device_id", "string", "varchar" },        { "model", "string", "varchar" },
	{ "site_id", "string", "varchar" },          { "last_seen", "timestamp", "timestamp(3)" },
	{ "avg_temperature_c", "double", "double" },
};
static const vcol vc_late_shipments[] = {
	{ "shipment_id", "string", "varchar" },
	{ "order_id", "bigint", "bigint" },
	{ "carrier", "string", "varchar" },
	{ "warehouse_name", "string", "varchar" },
	{ "warehouse_region", "string", "varchar" },
	{ "promised_at", "timestamp", "timestamp(3)" },
	{ "delivered_at", "timestamp", "timestamp(3)" },
};
static const vcol vc_funnel[] = {
	{ "source", "string", "varchar" },
	{ "sessions", "bigint", "bigint" },
	{ "cart_sessions", "bigint", "bigint" },
	{ "converted_sessions", "bigint", "bigint" },
};
static const vcol vc_customer_profile[] = {
	{ "customer_id", "bigint", "bigint" },
	{ "full_name", "string", "varchar" },
	{ "country", "string", "varchar" },
	{ "segment", "string", "varchar" },
	{ "lifetime_value", "decimal(14,2)", "decimal(14,2)" },
	{ "open_tickets", "bigint", "bigint" },
	{ "last_ticket_at", "timestamp", "timestamp(3)" },
};
static const vcol vc_failed_logins[] = {
	{ "user_name", "string", "varchar" },
	{ "source_ip", "string", "varchar" },
	{ "country", "string", "varchar" },
	{ "failures", "bigint", "bigint" },
	{ "first_failure", "timestamp", "timestamp(3)" },
	{ "last_failure", "timestamp", "timestamp(3)" },
};

#define VC(c) c, sizeof(c) / sizeof((c)[0])

/* In dependency order: v_daily_revenue reads v_order_invoices. */
const vspec demo_views[DEMO_VIEWS] = {
	{ "sales_reporting", "v_order_invoices", V_HIVE, "sales-analytics",
	  "Orders with their invoice, for revenue reporting",
	  "SELECT o.order_id, o.customer_id, o.order_ts, o.amount, o.currency, i.invoice_id, "
	  "i.invoice_status, i.due_date\n"
	  "FROM sales_raw.orders o\n"
	  "JOIN finance_ledger.invoices i ON o.order_id = i.order_id\n"
	  "WHERE o.status <> 'CANCELLED'",
	  "SELECT `o`.`order_id`, `o`.`customer_id`, `o`.`order_ts`, `o`.`amount`, `o`.`currency`, "
	  "`i`.`invoice_id`, `i`.`invoice_status`, `i`.`due_date`\n"
	  "FROM `sales_raw`.`orders` `o`\n"
	  "JOIN `finance_ledger`.`invoices` `i` ON `o`.`order_id` = `i`.`order_id`\n"
	  "WHERE `o`.`status` <> 'CANCELLED'",
	  VC(vc_order_invoices) },
	{ "sales_reporting", "v_daily_revenue", V_SPARK, "sales-analytics",
	  "Paid revenue and buyers per day and currency",
	  "SELECT to_date(order_ts) AS order_date, currency, sum(amount) AS revenue, "
	  "count(DISTINCT customer_id) AS buyers\n"
	  "FROM sales_reporting.v_order_invoices\n"
	  "WHERE invoice_status = 'PAID'\n"
	  "GROUP BY to_date(order_ts), currency",
	  NULL, VC(vc_daily_revenue) },
	{ "marketing_campaigns", "v_campaign_attribution", V_HIVE, "marketing-analytics",
	  "Orders within 7 days of an ad click on the same campaign",
	  "SELECT c.campaign_id, c.click_ts, o.order_id, o.amount, o.segment\n"
	  "FROM marketing_events.ad_clicks c\n"
	  "JOIN sales_curated.orders_enriched o ON o.customer_id = c.customer_id "
	  "AND o.campaign_id = c.campaign_id\n"
	  "WHERE o.order_ts BETWEEN c.click_ts AND c.click_ts + INTERVAL 7 DAYS",
	  "SELECT `c`.`campaign_id`, `c`.`click_ts`, `o`.`order_id`, `o`.`amount`, `o`.`segment`\n"
	  "FROM `marketing_events`.`ad_clicks` `c`\n"
	  "JOIN `sales_curated`.`orders_enriched` `o` ON `o`.`customer_id` = `c`.`customer_id` "
	  "AND `o`.`campaign_id` = `c`.`campaign_id`\n"
	  "WHERE `o`.`order_ts` BETWEEN `c`.`click_ts` AND `c`.`click_ts` + INTERVAL 7 DAYS",
	  VC(vc_attribution) },
	{ "finance_reporting", "v_ar_aging", V_PRESTO,
	  "arn:aws:iam::111111111111:role/finance-analyst", NULL,
	  "SELECT i.invoice_id, i.customer_id, i.due_date, "
	  "i.amount - COALESCE(sum(p.amount), 0) AS open_amount, "
	  "date_diff('day', i.due_date, current_date) AS days_overdue\n"
	  "FROM finance_ledger.invoices i\n"
	  "LEFT JOIN finance_ledger.payments p ON p.invoice_id = i.invoice_id\n"
	  "WHERE i.invoice_status <> 'VOID'\n"
	  "GROUP BY i.invoice_id, i.customer_id, i.due_date, i.amount",
	  NULL, VC(vc_ar_aging) },
	{ "hr_people", "v_headcount_by_dept", V_HIVE, "hr-analytics",
	  "Active headcount per department",
	  "SELECT d.department_name, d.cost_center, count(*) AS headcount\n"
	  "FROM hr_people.employees e\n"
	  "JOIN hr_people.departments d ON d.department_id = e.department_id\n"
	  "WHERE e.employment_status = 'ACTIVE'\n"
	  "GROUP BY d.department_name, d.cost_center",
	  "SELECT `d`.`department_name`, `d`.`cost_center`, count(*) AS `headcount`\n"
	  "FROM `hr_people`.`employees` `e`\n"
	  "JOIN `hr_people`.`departments` `d` ON `d`.`department_id` = `e`.`department_id`\n"
	  "WHERE `e`.`employment_status` = 'ACTIVE'\n"
	  "GROUP BY `d`.`department_name`, `d`.`cost_center`",
	  VC(vc_headcount) },
	{ "iot_telemetry", "v_device_health", V_HIVE, "iot-platform",
	  "Last reading and average temperature per device over the last day",
	  "SELECT d.device_id, d.model, d.site_id, max(r.reading_ts) AS last_seen, "
	  "avg(CASE WHEN r.metric = 'temperature_c' THEN r.value END) AS avg_temperature_c\n"
	  "FROM iot_telemetry.sensor_readings r\n"
	  "JOIN iot_devices.devices d ON d.device_id = r.device_id\n"
	  "WHERE r.dt >= date_format(date_sub(current_date, 1), 'yyyy-MM-dd')\n"
	  "GROUP BY d.device_id, d.model, d.site_id",
	  "SELECT `d`.`device_id`, `d`.`model`, `d`.`site_id`, "
	  "max(`r`.`reading_ts`) AS `last_seen`, "
	  "avg(CASE WHEN `r`.`metric` = 'temperature_c' THEN `r`.`value` END) "
	  "AS `avg_temperature_c`\n"
	  "FROM `iot_telemetry`.`sensor_readings` `r`\n"
	  "JOIN `iot_devices`.`devices` `d` ON `d`.`device_id` = `r`.`device_id`\n"
	  "WHERE `r`.`dt` >= date_format(date_sub(current_date, 1), 'yyyy-MM-dd')\n"
	  "GROUP BY `d`.`device_id`, `d`.`model`, `d`.`site_id`",
	  VC(vc_device_health) },
	{ "logistics_shipments", "v_late_shipments", V_HIVE, "logistics-analytics",
	  "Shipments delivered after, or still open past, their promised time",
	  "SELECT s.shipment_id, s.order_id, s.carrier, w.name AS warehouse_name, "
	  "w.region AS warehouse_region, s.promised_at, s.delivered_at\n"
	  "FROM logistics_shipments.shipments s\n"
	  "JOIN logistics_warehouse.warehouses w ON w.warehouse_id = s.warehouse_id\n"
	  "WHERE s.delivered_at > s.promised_at "
	  "OR (s.delivered_at IS NULL AND s.promised_at < current_timestamp)",
	  "SELECT `s`.`shipment_id`, `s`.`order_id`, `s`.`carrier`, "
	  "`w`.`name` AS `warehouse_name`, "
	  "`w`.`region` AS `warehouse_region`, `s`.`promised_at`, `s`.`delivered_at`\n"
	  "FROM `logistics_shipments`.`shipments` `s`\n"
	  "JOIN `logistics_warehouse`.`warehouses` `w` ON `w`.`warehouse_id` = `s`.`warehouse_id`\n"
	  "WHERE `s`.`delivered_at` > `s`.`promised_at` "
	  "OR (`s`.`delivered_at` IS NULL AND `s`.`promised_at` < current_timestamp)",
	  VC(vc_late_shipments) },
	{ "product_analytics", "v_funnel", V_PRESTO,
	  "arn:aws:iam::111111111111:role/product-analyst", NULL,
	  "SELECT s.source, count(DISTINCT s.session_id) AS sessions, "
	  "count(DISTINCT CASE WHEN p.url LIKE '%/cart%' THEN s.session_id END) AS cart_sessions, "
	  "count(DISTINCT CASE WHEN s.converted THEN s.session_id END) AS converted_sessions\n"
	  "FROM web_sessions.sessions s\n"
	  "LEFT JOIN web_clickstream.page_views p ON p.session_id = s.session_id AND p.dt = s.dt\n"
	  "GROUP BY s.source",
	  NULL, VC(vc_funnel) },
	{ "customer_360", "v_customer_profile", V_PRESTO,
	  "arn:aws:iam::111111111111:role/customer-analyst", NULL,
	  "SELECT c.customer_id, c.full_name, c.country, c.segment, c.lifetime_value, "
	  "count(t.ticket_id) AS open_tickets, max(t.opened_at) AS last_ticket_at\n"
	  "FROM sales_curated.customers c\n"
	  "LEFT JOIN support_tickets.tickets t ON t.customer_id = c.customer_id "
	  "AND t.status <> 'CLOSED'\n"
	  "GROUP BY c.customer_id, c.full_name, c.country, c.segment, c.lifetime_value",
	  NULL, VC(vc_customer_profile) },
	{ "security_audit", "v_failed_logins", V_HIVE, "security-engineering",
	  "Users and addresses with five or more failed logins",
	  "SELECT user_name, source_ip, country, count(*) AS failures, "
	  "min(event_ts) AS first_failure, "
	  "max(event_ts) AS last_failure\n"
	  "FROM login_events\n"
	  "WHERE outcome = 'FAILURE'\n"
	  "GROUP BY user_name, source_ip, country\n"
	  "HAVING count(*) >= 5",
	  "SELECT `login_events`.`user_name`, `login_events`.`source_ip`, "
	  "`login_events`.`country`, "
	  "count(*) AS `failures`, min(`login_events`.`event_ts`) AS `first_failure`, "
	  "max(`login_events`.`event_ts`) AS `last_failure`\n"
	  "FROM `security_audit`.`login_events`\n"
	  "WHERE `login_events`.`outcome` = 'FAILURE'\n"
	  "GROUP BY `login_events`.`user_name`, `login_events`.`source_ip`, "
	  "`login_events`.`country`\n"
	  "HAVING count(*) >= 5",
	  VC(vc_failed_logins) },
};

const char *const demo_regions[DEMO_NREGIONS] = {
	"us-east-1",      "us-west-2",      "eu-west-1", "eu-central-1",
	"ap-southeast-2", "ap-northeast-1", "sa-east-1", "ca-central-1",
};

const unsigned char demo_diurnal[24] = {
	35, 28, 24, 22, 22,  25, 33, 45, 60, 72, 80, 86,
	90, 92, 95, 97, 100, 98, 92, 84, 74, 62, 51, 42,
};
