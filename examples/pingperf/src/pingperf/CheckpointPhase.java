package pingperf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * The application's side of the image's checkpoint protocol.
 *
 * <p>The entrypoint sets CHECKPOINT_PHASE (features, deployment or applications) and
 * CHECKPOINT_READY_FILE. When startup reaches that phase, the application writes its PID into the
 * ready file and blocks until SIGUSR1. The entrypoint dumps the process meanwhile; after a restore,
 * criu's post-resume action script sends SIGUSR1 and startup continues where it stopped. Without
 * CHECKPOINT_PHASE every phase passes straight through.
 */
final class CheckpointPhase {
    enum Phase { FEATURES, DEPLOYMENT, APPLICATIONS }

    private final Phase requested;
    private final Path readyFile;
    private volatile boolean restored;

    private CheckpointPhase(Phase requested, Path readyFile) {
        this.requested = requested;
        this.readyFile = readyFile;
    }

    static CheckpointPhase fromEnvironment() {
        String phase = System.getenv("CHECKPOINT_PHASE");
        if (phase == null || phase.isEmpty()) {
            return new CheckpointPhase(null, null);
        }
        Phase requested;
        try {
            requested = Phase.valueOf(phase.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "invalid CHECKPOINT_PHASE " + phase + ": expected features, deployment or applications", e);
        }
        String ready = System.getenv("CHECKPOINT_READY_FILE");
        if (ready == null || ready.isEmpty()) {
            throw new IllegalArgumentException("CHECKPOINT_PHASE is set but CHECKPOINT_READY_FILE is missing");
        }
        return new CheckpointPhase(requested, Path.of(ready));
    }

    boolean restored() {
        return restored;
    }

    /** Blocks until the process has been dumped and restored when {@code phase} is the requested one. */
    void reached(Phase phase) throws IOException, InterruptedException {
        if (phase != requested) {
            return;
        }
        CountDownLatch resumed = new CountDownLatch(1);
        // The handler must exist before the ready file does: the entrypoint may dump at once, and a
        // SIGUSR1 that arrived without a handler would terminate the JVM.
        Signal.handle(new Signal("USR1"), signal -> resumed.countDown());

        System.out.println("pingperf: reached phase " + phase.name().toLowerCase(java.util.Locale.ROOT)
                + " after " + Startup.uptimeMillis() + " ms, waiting for checkpoint");
        System.out.flush();

        Path partial = readyFile.resolveSibling(readyFile.getFileName() + ".partial");
        Files.writeString(partial, ProcessHandle.current().pid() + "\n");
        Files.move(partial, readyFile, StandardCopyOption.ATOMIC_MOVE);

        resumed.await();
        restored = true;
        Startup.markRestored();
    }
}
