package pingperf;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The application's settings: defaults, overridden by /config/pingperf.properties when it exists
 * (path in PINGPERF_CONFIG). It is read during deployment, so a checkpoint taken at the deployment or
 * applications phase keeps the settings it was taken with.
 */
public record AppConfig(String contextRoot, String greeting, int port, int workerThreads, int warmupRequests) {

    static AppConfig load() throws IOException {
        Properties properties = new Properties();
        Path file = Path.of(System.getenv().getOrDefault("PINGPERF_CONFIG", "/config/pingperf.properties"));
        if (Files.isRegularFile(file)) {
            try (Reader reader = Files.newBufferedReader(file)) {
                properties.load(reader);
            }
        }
        return new AppConfig(
                properties.getProperty("contextRoot", "/pingperf"),
                properties.getProperty("greeting", "ping"),
                integer(properties, file, "port", 9080),
                integer(properties, file, "workerThreads", 4),
                integer(properties, file, "warmupRequests", 20000));
    }

    private static int integer(Properties properties, Path file, String key, int fallback) {
        String value = properties.getProperty(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + key + " in " + file + ": " + value + " is not a whole number", e);
        }
    }
}
