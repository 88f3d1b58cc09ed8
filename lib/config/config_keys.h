/*
 * lib/config/config_keys.h — every configuration key, declared once:
 *   X(name, type, default, choices, min, max, secret, help)
 * type is STR, INT, BOOL or ENUM (choices is "a|b|c"). Each key can be set in
 * the config file as `name = value` or in the environment as AGORA_<NAME>.
 * Keys marked secret are masked by --check-config.
 */
#define AG_CONFIG_KEYS(X)                                                                          \
    X(log_level, ENUM, "info", "debug|info|warn|error", 0, 0, 0, "log threshold")                  \
    X(log_target, ENUM, "stderr", "stderr|syslog", 0, 0, 0, "where log lines go")                  \
    X(pg_host, STR, "127.0.0.1", NULL, 0, 0, 0, "PostgreSQL host or socket directory")             \
    X(pg_port, INT, "55432", NULL, 1, 65535, 0, "PostgreSQL port")                                 \
    X(pg_user, STR, "agora", NULL, 0, 0, 0, "PostgreSQL role")                                     \
    X(pg_password, STR, "", NULL, 0, 0, 1, "PostgreSQL password (empty: none)")                    \
    X(pg_dbname, STR, "agora", NULL, 0, 0, 0, "PostgreSQL database")                               \
    X(pg_connect_timeout, INT, "3", NULL, 1, 60, 0, "seconds to wait for a PostgreSQL connection") \
    X(pg_statement_timeout_ms, INT, "5000", NULL, 100, 600000, 0, "per-statement timeout")         \
    X(redis_host, STR, "127.0.0.1", NULL, 0, 0, 0, "Redis host")                                   \
    X(redis_port, INT, "56379", NULL, 1, 65535, 0, "Redis port")                                   \
    X(redis_password, STR, "", NULL, 0, 0, 1, "Redis AUTH password (empty: none)")                 \
    X(redis_timeout_ms, INT, "1000", NULL, 10, 60000, 0, "Redis connect and command timeout")      \
    X(nats_host, STR, "127.0.0.1", NULL, 0, 0, 0, "NATS host")                                     \
    X(nats_port, INT, "54222", NULL, 1, 65535, 0, "NATS client port")                              \
    X(nats_timeout_ms, INT, "2000", NULL, 10, 60000, 0, "NATS connect and publish-ack timeout")    \
    X(http_port, INT, "8080", NULL, 1, 65535, 0, "Apache port (used in printed URLs)")             \
    X(ws_port, INT, "8081", NULL, 1, 65535, 0, "agora-wsd listening port")                         \
    X(mongodb_uri, STR, "", NULL, 0, 0, 1, "MongoDB URI; empty keeps content in PostgreSQL")       \
    X(mongodb_db, STR, "agora", NULL, 0, 0, 0, "MongoDB database name")                            \
    X(jwt_secret, STR, "", NULL, 0, 0, 1, "HS256 key (or use jwt_secret_file)")                    \
    X(jwt_secret_file, STR, "", NULL, 0, 0, 0, "file holding the HS256 key")                       \
    X(jwt_ttl, INT, "86400", NULL, 60, 2592000, 0, "token lifetime in seconds")                    \
    X(argon2_t_cost, INT, "2", NULL, 1, 16, 0, "argon2id passes")                                  \
    X(argon2_m_cost_kib, INT, "19456", NULL, 8, 1048576, 0, "argon2id memory in KiB")              \
    X(argon2_parallelism, INT, "1", NULL, 1, 16, 0, "argon2id lanes")                              \
    X(rest_body_max, INT, "65536", NULL, 1024, 16777216, 0, "largest REST body in bytes")          \
    X(graphql_body_max, INT, "262144", NULL, 1024, 16777216, 0, "largest GraphQL body in bytes")   \
    X(graphql_max_depth, INT, "12", NULL, 2, 64, 0, "deepest GraphQL selection")                   \
    X(graphql_max_cost, INT, "20000", NULL, 10, 10000000, 0, "GraphQL cost limit (list fields)")   \
    X(graphql_apq_entries, INT, "1024", NULL, 0, 1000000, 0,                                       \
      "persisted query texts each FastCGI worker keeps (0: no APQ)")                               \
    X(graphql_apq_ttl_s, INT, "86400", NULL, 0, 31536000, 0,                                       \
      "seconds a persisted query text stays in Redis (0: workers only)")                           \
    X(graphql_trusted_documents, STR, "", NULL, 0, 0, 0,                                           \
      "manifest of the only GraphQL documents that run (empty: any)")                              \
    X(graphql_get_max_age, INT, "60", NULL, 0, 86400, 0,                                           \
      "Cache-Control max-age of anonymous GraphQL GET responses (0: no-cache)")                    \
    X(graphql_max_root_fields, INT, "32", NULL, 1, 10000, 0, "GraphQL root fields per request")    \
    X(graphql_max_aliases, INT, "64", NULL, 1, 1000000, 0, "GraphQL aliased fields per request")   \
    X(graphql_memory_max, INT, "67108864", NULL, 1048576, 68719476736, 0,                          \
      "bytes one GraphQL request may add to a worker")                                             \
    X(rate_graphql_cost_unit, INT, "100", NULL, 1, 100000000, 0,                                   \
      "GraphQL cost per extra API rate-limit token")                                               \
    X(page_limit_max, INT, "100", NULL, 1, 1000, 0, "largest limit/first of a page")               \
    X(ws_frame_max, INT, "4096", NULL, 256, 1048576, 0, "largest inbound WebSocket frame")         \
    X(typing_interval_ms, INT, "2000", NULL, 0, 60000, 0, "typing events per user and channel")    \
    X(rate_register_per_min, INT, "60", NULL, 0, 1000000, 0, "registrations per IP per minute")    \
    X(rate_login_per_min, INT, "20", NULL, 0, 1000000, 0, "logins per IP and username per minute") \
    X(rate_api_per_sec, INT, "200", NULL, 0, 1000000, 0, "API requests per user per second")       \
    X(rate_api_burst, INT, "400", NULL, 0, 1000000, 0, "API burst per user")                       \
    X(stream_max_age_s, INT, "604800", NULL, 1, 315360000, 0, "JetStream retention by age")        \
    X(stream_max_bytes, INT, "1073741824", NULL, 1048576, 1099511627776, 0, "JetStream bytes cap") \
    X(sql_dir, STR, AG_SQL_DIR, NULL, 0, 0, 0, "directory of numbered migrations")                 \
    X(ws_heartbeat_ms, INT, "25000", NULL, 1000, 600000, 0, "agora-wsd idle ping interval")        \
    X(ws_presence_grace_ms, INT, "10000", NULL, 0, 3600000, 0, "offline after last session + ms")  \
    X(ws_queue_max, INT, "1024", NULL, 256, 1000000, 0, "frames per session, >= 256")              \
    X(ws_conn_per_user, INT, "16", NULL, 1, 100000, 0, "WebSocket sessions per user and daemon")   \
    X(ws_rate_per_sec, INT, "20", NULL, 1, 100000, 0, "client frames per second (burst 2x)")       \
    X(ws_consumer_idle_s, INT, "604800", NULL, 60, 315360000, 0,                                   \
      "drop a user's DM consumer idle s")                                                          \
    X(ws_replay_max, INT, "5000", NULL, 1, 10000000, 0,                                            \
      "replay at most this many events (else a gap)")                                              \
    X(ws_resync_s, INT, "120", NULL, 5, 86400, 0, "re-read a user's memberships every s (about)")  \
    X(ws_gql_subscriptions_max, INT, "100", NULL, 1, 100000, 0,                                   \
      "GraphQL subscriptions per graphql-ws connection")                                           \
    X(ws_gql_init_wait_ms, INT, "10000", NULL, 100, 600000, 0,                                      \
      "graphql-ws: close 4408 without connection_init in ms")                                      \
    X(ws_live_heartbeat_ms, INT, "1000", NULL, 100, 60000, 0,                                      \
      "live consumer heartbeat; silent 3x: recreated")                                             \
    X(ws_consumer_heartbeat_ms, INT, "5000", NULL, 500, 600000, 0, "DM/notify consumer heartbeat") \
    X(ws_ack_wait_s, INT, "30", NULL, 1, 3600, 0,                                                  \
      "DM/notify: JetStream redelivers an unacked event after s")                                  \
    X(ws_metrics_token, STR, "", NULL, 0, 0, 1,                                                    \
      "bearer token for /metrics (empty: loopback only)")                                          \
    X(ws_job_threads, INT, "2", NULL, 1, 8, 0,                                                     \
      "agora-wsd threads for Redis/PostgreSQL/JetStream jobs")                                     \
    X(ws_replay_threads, INT, "1", NULL, 1, 8, 0, "agora-wsd threads for replays")                 \
    X(ws_workers, INT, "1", NULL, 1, 64, 0, "agora-wsd processes sharing ws_port (one core each)") \
    X(worker_max_seconds, INT, "50", NULL, 1, 3600, 0, "agora-worker time budget per run")         \
    X(worker_batch, INT, "100", NULL, 1, 10000, 0, "agora-worker messages per fetch")              \
    X(worker_ack_wait_s, INT, "30", NULL, 1, 3600, 0, "redeliver a worker message unacked for s")  \
    X(worker_resident_s, INT, "150", NULL, 5, 3600, 0,                                             \
      "a resident worker run stays at most s (it hands over earlier)")                             \
    X(worker_max_deliver, INT, "5", NULL, 1, 1000, 0,                                              \
      "stream jobs: dead-letter after this many failures")                                         \
    X(worker_outbox_age_s, INT, "5", NULL, 0, 86400, 0, "outbox republishes events older than s")  \
    X(worker_outbox_backoff_s, INT, "30", NULL, 1, 86400, 0,                                       \
      "outbox: first retry delay, doubling")                                                       \
    X(worker_outbox_backoff_max_s, INT, "3600", NULL, 1, 604800, 0, "outbox: longest retry delay") \
    X(worker_outbox_alert_s, INT, "300", NULL, 1, 31536000, 0,                                     \
      "outbox: undelivered longer is an error")                                                    \
    X(ws_instance_ttl_ms, INT, "15000", NULL, 1000, 3600000, 0,                                    \
      "agora-wsd presence lease (crash: offline)")                                                 \
    X(nats_urls, STR, "", NULL, 0, 0, 0,                                                           \
      "comma-separated nats:// URLs of a cluster (over nats_host/port)")                           \
    X(stream_replicas, INT, "1", NULL, 1, 5, 0,                                                    \
      "JetStream replicas of Agora's streams (3 on a cluster)")                                    \
    X(data_dir, STR, "/var/lib/agora", NULL, 0, 0, 0,                                              \
      "uploaded files (files/, avatars/, uploads/)")                                               \
    X(reaction_emojis_max, INT, "20", NULL, 1, 100, 0,                                             \
      "distinct emojis on one post, comment, reply or DM")                                         \
    X(attachments_per_message_max, INT, "10", NULL, 1, 100, 0, "attachments of one post or DM")    \
    X(upload_request_max, INT, "1048576", NULL, 1024, 1073741824, 0,                               \
      "largest one-request upload (POST /uploads), bytes")                                         \
    X(upload_max_bytes, INT, "26214400", NULL, 1024, 1099511627776, 0,                             \
      "largest file (tus uploads), bytes")                                                         \
    X(upload_quota_bytes, INT, "1073741824", NULL, 0, 1099511627776, 0,                            \
      "bytes of uploads a user may hold (0: no quota)")                                            \
    X(upload_rate_per_min, INT, "30", NULL, 0, 1000000, 0,                                         \
      "uploads (and avatars) per user per minute (0: no limit)")                                   \
    X(image_max_pixels, INT, "40000000", NULL, 1, 1000000000, 0,                                   \
      "larger images are refused (decompression bombs)")                                           \
    X(thumbnail_px, INT, "320", NULL, 16, 2048, 0, "longest side of a thumbnail")
