package pingperf;

import java.util.Map;

/** An incoming GET request, independent of the HTTP server so that warm-up can build one in memory. */
public record Request(String path, Map<String, String> query) {
    public String parameter(String name, String fallback) {
        return query.getOrDefault(name, fallback);
    }
}
