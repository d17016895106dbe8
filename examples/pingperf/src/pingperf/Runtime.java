package pingperf;

import com.sun.net.httpserver.spi.HttpServerProvider;
import java.nio.charset.Charset;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The server runtime that the application runs on, started in the features phase. Each feature does
 * the work a real runtime does on first start, in the same JDK subsystems: time zone rules, character
 * sets, a generated TLS key pair, logging, the HTTP server provider and the worker pool.
 */
final class Runtime {
    final ExecutorService workers;
    final KeyPair tlsKeyPair;
    final String tlsFingerprint;
    final HttpServerProvider httpProvider;
    final DateTimeFormatter accessLogTime;

    private Runtime(ExecutorService workers, KeyPair tlsKeyPair, String tlsFingerprint,
            HttpServerProvider httpProvider, DateTimeFormatter accessLogTime) {
        this.workers = workers;
        this.tlsKeyPair = tlsKeyPair;
        this.tlsFingerprint = tlsFingerprint;
        this.httpProvider = httpProvider;
        this.accessLogTime = accessLogTime;
    }

    static Runtime start(int workerThreads) throws NoSuchAlgorithmException {
        Logger log = Logger.getLogger("pingperf.runtime");

        // Access logs print local times in any zone, so load every zone's rules now, not on a request.
        int zones = 0;
        for (String id : ZoneId.getAvailableZoneIds()) {
            ZoneId.of(id).getRules().getTransitions();
            zones++;
        }
        DateTimeFormatter accessLogTime = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);
        accessLogTime.format(ZonedDateTime.now());

        // Request decoding accepts any charset a client names.
        int charsets = 0;
        for (Charset charset : Charset.availableCharsets().values()) {
            if (charset.canEncode()) {
                charset.newEncoder();
            }
            charset.newDecoder();
            charsets++;
        }

        // The TLS endpoint on 9443 needs a key pair; like a server's default keystore it is made on start.
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair tlsKeyPair = generator.generateKeyPair();
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(tlsKeyPair.getPublic().getEncoded());
        String tlsFingerprint = HexFormat.ofDelimiter(":").formatHex(digest);

        HttpServerProvider httpProvider = HttpServerProvider.provider();

        ThreadPoolExecutor workers = new ThreadPoolExecutor(workerThreads, workerThreads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), runnable -> {
                    Thread thread = new Thread(runnable, "pingperf-worker");
                    thread.setDaemon(true);
                    return thread;
                });
        workers.prestartAllCoreThreads();

        log.fine(() -> "runtime started");
        System.out.println("pingperf: runtime features started (" + zones + " time zones, " + charsets
                + " charsets, TLS key " + tlsFingerprint.substring(0, 23) + "..., " + workerThreads + " workers)");
        return new Runtime(workers, tlsKeyPair, tlsFingerprint, httpProvider, accessLogTime);
    }
}
