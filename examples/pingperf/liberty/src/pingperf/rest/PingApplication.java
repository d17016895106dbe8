package pingperf.rest;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** Serves the resources of this package under the context root, as /pingperf/ping. */
@ApplicationPath("/")
public class PingApplication extends Application {
}
