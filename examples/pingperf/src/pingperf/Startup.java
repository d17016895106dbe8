package pingperf;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * Starts pingperf in the three phases of the checkpoint protocol: features (the runtime), deployment
 * (application classes loaded, configuration read, routes built) and applications (handlers warmed up).
 * The HTTP port opens only after the last phase, so a checkpoint never contains a listening socket.
 */
public final class Startup {
    private static final long START_NANOS = System.nanoTime();
    private static volatile long restoreNanos;

    private Startup() {}

    static long uptimeMillis() {
        return (System.nanoTime() - START_NANOS) / 1_000_000;
    }

    static boolean restored() {
        return restoreNanos != 0;
    }

    static void markRestored() {
        restoreNanos = System.nanoTime();
    }

    public static void main(String[] args) throws Exception {
        CheckpointPhase checkpoint = CheckpointPhase.fromEnvironment();

        Runtime runtime = Runtime.start(Integer.getInteger("pingperf.workers", 4));
        checkpoint.reached(CheckpointPhase.Phase.FEATURES);

        Deployment deployment = Deployment.deploy();
        checkpoint.reached(CheckpointPhase.Phase.DEPLOYMENT);

        Router router = new Router(deployment.routes);
        long warmed = warmUp(router, deployment);
        checkpoint.reached(CheckpointPhase.Phase.APPLICATIONS);

        HttpServer server = runtime.httpProvider.createHttpServer(new InetSocketAddress(deployment.config.port()), 128);
        server.setExecutor(runtime.workers);
        server.createContext(deployment.config.contextRoot() + "/", exchange -> {
            try (exchange) {
                Router.Response response = router.handle(exchange.getRequestMethod(),
                        exchange.getRequestURI().getRawPath(), exchange.getRequestURI().getRawQuery());
                exchange.getResponseHeaders().set("Content-Type", response.contentType());
                boolean head = exchange.getRequestMethod().equals("HEAD");
                exchange.sendResponseHeaders(response.status(), head ? -1 : response.body().length);
                if (!head) {
                    try (OutputStream body = exchange.getResponseBody()) {
                        body.write(response.body());
                    }
                }
            }
        });
        server.start();

        String since = restored()
                ? ((System.nanoTime() - restoreNanos) / 1_000_000) + " ms after restore"
                : uptimeMillis() + " ms after start";
        System.out.println("pingperf: listening on port " + deployment.config.port() + ", " + since
                + " (" + warmed + " warm-up requests)");
        System.out.flush();
    }

    /** Sends every route enough requests in memory that the JIT compiles the request path. */
    private static long warmUp(Router router, Deployment deployment) {
        int rounds = deployment.config.warmupRequests();
        long bytes = 0;
        for (int i = 0; i < rounds; i++) {
            for (String path : deployment.routes.keySet()) {
                Router.Response response = router.handle("GET", path, "message=warm-up+" + i);
                if (response.status() != 200) {
                    throw new IllegalStateException("warm-up request to " + path + " returned " + response.status());
                }
                bytes += response.body().length;
            }
        }
        for (Object resource : deployment.resources) {
            if (resource instanceof PingResource ping) {
                ping.resetCounters();
            }
        }
        System.out.println("pingperf: application started, " + (long) rounds * deployment.routes.size()
                + " warm-up requests (" + bytes + " bytes)");
        return (long) rounds * deployment.routes.size();
    }
}
