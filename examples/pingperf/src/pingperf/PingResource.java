package pingperf;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** The application's REST resources. Deployment finds them through their {@link Route} annotations. */
public final class PingResource {
    private final AtomicLong requests = new AtomicLong();
    private final String greeting;

    public PingResource(AppConfig config) {
        this.greeting = config.greeting();
    }

    @Route("/ping")
    public String ping(Request request) {
        requests.incrementAndGet();
        return greeting;
    }

    @Route(value = "/stats", contentType = "application/json")
    public String stats(Request request) {
        return Json.object(
                "requests", requests.get(),
                "uptimeMillis", Startup.uptimeMillis(),
                "restored", Startup.restored(),
                "now", Instant.now().toString());
    }

    @Route(value = "/echo", contentType = "application/json")
    public String echo(Request request) {
        return Json.object("message", request.parameter("message", ""), "length", request.parameter("message", "").length());
    }

    /** Resets what warm-up counted, so that the first real request is number one. */
    void resetCounters() {
        requests.set(0);
    }
}
