/* edubrain serve: the HTTP server over one database. */
#include "api/api.h"
#include "app.h"
#include "auth/keys.h"
#include "brain/brain.h"
#include "brain/feeds.h"
#include "brain/indicator.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fputs("usage: edubrain serve --db PATH [--listen HOST:PORT] [--web DIR] [--threads N]\n"
          "                      [--key-file PATH] [--secure-cookies] [--session-ttl SECONDS]\n"
          "                      [--issuer URL] [--mfa-admins required|optional]\n"
          "                      [--tls-cert FILE --tls-key FILE] [--quality-at HH:MM|off]\n"
          "\n"
          "  --db PATH          the database (a SQLite file)\n"
          "  --listen HOST:PORT address to serve on (default 127.0.0.1:8080; port 0 = any)\n"
          "  --web DIR          the built web UI (default: web/dist when it exists)\n"
          "  --threads N        HTTP worker threads (default: 2 per core, at least 4)\n"
          "  --key-file PATH    citizen-ID encryption key (default: PATH.key beside the db)\n"
          "  --secure-cookies   mark cookies Secure (when a TLS proxy is in front)\n"
          "  --session-ttl S    idle session lifetime in seconds (default 28800)\n"
          "  --cache-mb N       memory for cached people lists (default 64; 0 = off)\n"
          "  --issuer URL       OpenID Connect issuer, the public URL of this server without a\n"
          "                     trailing / (default http(s)://HOST:PORT of --listen)\n"
          "  --tls-cert FILE    serve HTTPS with this PEM certificate (chain) ...\n"
          "  --tls-key FILE     ... and its PEM private key (normally TLS ends at the load\n"
          "                     balancer in front; see docs/SCALING.md)\n"
          "  --mfa-admins P     whether city, district and school administrators must log in\n"
          "                     with a TOTP second factor: required (default) or optional\n"
          "  --quality-at HH:MM run the data-quality checks over the whole city every day at\n"
          "                     this local time (default 02:00); off: never\n",
          f);
}

int eb_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"listen", required_argument, 0, 'l'},
        {"web", required_argument, 0, 'w'},
        {"threads", required_argument, 0, 't'},
        {"key-file", required_argument, 0, 'k'},
        {"secure-cookies", no_argument, 0, 's'},
        {"session-ttl", required_argument, 0, 'T'},
        {"cache-mb", required_argument, 0, 'c'},
        {"issuer", required_argument, 0, 'i'},
        {"mfa-admins", required_argument, 0, 'M'},
        {"tls-cert", required_argument, 0, 'C'},
        {"tls-key", required_argument, 0, 'K'},
        {"quality-at", required_argument, 0, 'Q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct eb_config cfg = {
        .listen = "127.0.0.1:8080",
        .threads = cores > 2 ? (int)cores * 2 : 4,
        .session_ttl_s = 8 * 3600,
        .session_max_s = 24 * 3600,
        .cache_mb = 64,
    };
    const char *tls_cert = NULL, *tls_key = NULL;
    int quality_at = 2 * 60 + 1; /* 02:00, see eb_quality_parse_at */
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            cfg.db = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 'w':
            cfg.web_dir = optarg;
            break;
        case 't':
            cfg.threads = (int)strtol(optarg, NULL, 10);
            if (cfg.threads < 1 || cfg.threads > 256) {
                fprintf(stderr, "edubrain serve: --threads must be 1..256\n");
                return 2;
            }
            break;
        case 'k':
            cfg.key_file = optarg;
            break;
        case 's':
            cfg.secure_cookies = 1;
            break;
        case 'T':
            cfg.session_ttl_s = (int)strtol(optarg, NULL, 10);
            if (cfg.session_ttl_s < 60 || cfg.session_ttl_s > cfg.session_max_s) {
                fprintf(stderr, "edubrain serve: --session-ttl must be 60..86400\n");
                return 2;
            }
            break;
        case 'c':
            cfg.cache_mb = (int)strtol(optarg, NULL, 10);
            if (cfg.cache_mb < 0 || cfg.cache_mb > 4096) {
                fprintf(stderr, "edubrain serve: --cache-mb must be 0..4096\n");
                return 2;
            }
            break;
        case 'i':
            cfg.issuer = optarg;
            break;
        case 'M':
            if (strcmp(optarg, "required") == 0) {
                cfg.mfa_admins = EB_MFA_REQUIRED;
            } else if (strcmp(optarg, "optional") == 0) {
                cfg.mfa_admins = EB_MFA_OPTIONAL;
            } else {
                fprintf(stderr, "edubrain serve: --mfa-admins must be required or optional\n");
                return 2;
            }
            break;
        case 'C':
            tls_cert = optarg;
            break;
        case 'K':
            tls_key = optarg;
            break;
        case 'Q':
            if (eb_quality_parse_at(optarg, &quality_at) != 0) {
                fprintf(stderr, "edubrain serve: --quality-at must be HH:MM or off\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!cfg.db || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (cfg.issuer) {
        size_t n = strlen(cfg.issuer);
        if ((strncmp(cfg.issuer, "https://", 8) != 0 && strncmp(cfg.issuer, "http://", 7) != 0) ||
            cfg.issuer[n - 1] == '/' || strchr(cfg.issuer, '?') || strchr(cfg.issuer, '#')) {
            fprintf(stderr, "edubrain serve: --issuer must be an http(s) URL without a trailing /,"
                            " query or fragment\n");
            return 2;
        }
    }
    if (!tls_cert != !tls_key) {
        fprintf(stderr, "edubrain serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    if (!cfg.web_dir && access("web/dist/index.html", R_OK) == 0)
        cfg.web_dir = "web/dist";

    /* A request holds one connection for its whole life; the one more is for the signing keys'
     * reload (one thread at a time, see eb_keys_refresh), which a request that signs may start
     * while holding its own: without it, all workers signing at once would wait forever. */
    /* And one more for the nightly data-quality run, which holds its own while it runs. */
    /* And one for the OneRoster import job (one at a time), which holds its own for the import. */
    /* And one for the brain's registry feeds (src/brain/feeds.c) while they read. */
    /* And three for the brain: its rebuild, its group-commit writer and the validation of a
     * batch, which runs beside the request's own connection. */
    struct eb_store *st =
        eb_cli_open_store(cfg.db, cfg.key_file, 0, cfg.threads + 3 + 3 + (quality_at > 0));
    if (!st)
        return 1;
    struct eb_app app = {
        .cfg = &cfg, .store = st, .started_at = (int64_t)time(NULL), .quality_at = quality_at};
    if (cfg.cache_mb > 0)
        app.lists = eb_cache_create((size_t)cfg.cache_mb << 20, 8192);
    int rc = eb_keys_load(st, &app.keys);
    if (rc) {
        fprintf(stderr, "edubrain serve: cannot load the signing keys: %s\n", eb_strerror(rc));
        eb_cache_destroy(app.lists);
        eb_store_close(st);
        return 1;
    }
    /* The brain loads its elements and the org tree now; the cube warms in its own thread, so
     * the server listens at once and answers with "warming" meanwhile. */
    rc = eb_brain_start(st, &app.brain);
    if (rc)
        eb_warn("serve: the education brain could not start: %s", eb_strerror(rc));
    /* Indicators, alerts and the live stream listen to the brain from here on. */
    if (eb_indicators_start(&app, &app.indicators) != 0)
        eb_warn("serve: the alert worker could not start");
    struct eb_http_options hopt = {.listen = cfg.listen,
                                   .threads = cfg.threads,
                                   .web_dir = cfg.web_dir,
                                   .tls_cert_file = tls_cert,
                                   .tls_key_file = tls_key};
    struct eb_http_server *srv = NULL;
    /* The default issuer names the listen address; with port 0 the port is known once bound,
     * and the discovery document answers an error until then. */
    char issuer[128];
    rc = eb_http_start(&app, &hopt, eb_api_routes, eb_api_n_routes, &srv);
    if (rc) {
        fprintf(stderr, "edubrain serve: cannot listen on %s: %s\n", cfg.listen, eb_strerror(rc));
        eb_brain_stop(app.brain);
        eb_indicators_stop(app.indicators);
        eb_keys_free(app.keys);
        eb_cache_destroy(app.lists);
        eb_store_close(st);
        return 1;
    }
    const char *scheme = tls_cert ? "https" : "http";
    char host[64];
    snprintf(host, sizeof(host), "%s", cfg.listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    if (!cfg.issuer) {
        snprintf(issuer, sizeof(issuer), "%s://%s:%d", scheme, host, eb_http_port(srv));
        cfg.issuer = issuer;
    }
    struct eb_quality_sched *quality = NULL;
    if (eb_quality_sched_start(&app, &quality) != 0)
        eb_warn("serve: the nightly data-quality run could not start");
    /* The brain's registry feeds: a run now (today's rows when missing), then every hour. */
    struct eb_feeds *feeds = NULL;
    if (eb_feeds_start(st, app.brain, 3600, &feeds) != 0)
        eb_warn("serve: the brain's registry feeds could not start");
    /* Tests read this exact line to learn the port. */
    fprintf(stderr, "edubrain: listening on %s://%s:%d\n", scheme, host, eb_http_port(srv));

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stop_requested)
        pause();
    eb_info("stopping");
    eb_quality_sched_stop(quality);
    eb_feeds_stop(feeds);
    eb_http_stop(srv);
    eb_brain_stop(app.brain);
    /* After the brain: its listener calls into the alert worker and the stream hub. */
    eb_indicators_stop(app.indicators);
    eb_cache_destroy(app.lists);
    eb_keys_free(app.keys);
    eb_store_close(st);
    return 0;
}
