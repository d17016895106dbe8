package pingperf;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Maps a request to its endpoint and renders the response body; shared by warm-up and the HTTP server. */
final class Router {
    record Response(int status, String contentType, byte[] body) {}

    private final Map<String, Deployment.Endpoint> routes;

    Router(Map<String, Deployment.Endpoint> routes) {
        this.routes = routes;
    }

    Response handle(String method, String rawPath, String rawQuery) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return text(405, "method " + method + " not allowed; use GET\n");
        }
        Deployment.Endpoint endpoint = routes.get(rawPath);
        if (endpoint == null && rawPath.endsWith("/")) {
            endpoint = routes.get(rawPath.substring(0, rawPath.length() - 1));
        }
        if (endpoint == null) {
            return text(404, "no resource at " + rawPath + "\n");
        }
        try {
            String body = endpoint.invoke(new Request(rawPath, parseQuery(rawQuery)));
            return new Response(200, endpoint.contentType(), (body + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (Throwable e) {
            return text(500, "resource " + rawPath + " failed: " + e + "\n");
        }
    }

    static Map<String, String> parseQuery(String rawQuery) {
        Map<String, String> query = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return query;
        }
        for (String pair : rawQuery.split("&")) {
            int equals = pair.indexOf('=');
            String key = equals < 0 ? pair : pair.substring(0, equals);
            String value = equals < 0 ? "" : pair.substring(equals + 1);
            query.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return query;
    }

    private static Response text(int status, String message) {
        return new Response(status, "text/plain; charset=utf-8", message.getBytes(StandardCharsets.UTF_8));
    }
}
