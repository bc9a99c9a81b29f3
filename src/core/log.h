/* Logging to stderr, one line per event. Never pass secrets (passwords, tokens) here. */
#ifndef EB_CORE_LOG_H
#define EB_CORE_LOG_H

enum eb_log_level { EB_LOG_DEBUG, EB_LOG_INFO, EB_LOG_WARN, EB_LOG_ERROR };

void eb_log_set_level(enum eb_log_level level);
void eb_log(enum eb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define eb_debug(...) eb_log(EB_LOG_DEBUG, __VA_ARGS__)
#define eb_info(...)  eb_log(EB_LOG_INFO, __VA_ARGS__)
#define eb_warn(...)  eb_log(EB_LOG_WARN, __VA_ARGS__)
#define eb_error(...) eb_log(EB_LOG_ERROR, __VA_ARGS__)

#endif
