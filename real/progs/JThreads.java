// A JVM program with 4 worker threads and the main thread (real/jvmthreads.py): each worker appends
// "SEQ GLOBAL" to worker<K>.txt every millisecond or so (GLOBAL from one AtomicLong all share), the main
// thread appends its ticks to main.txt every 10 ms. On SIGTERM a shutdown hook stops the workers and
// writes done.txt ("done RECORDS TICKS").
import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

public class JThreads {
	static final int WORKERS = 4;
	static final AtomicLong global = new AtomicLong();
	static final AtomicLong ticks = new AtomicLong();
	static volatile boolean running = true;

	public static void main(String[] args) throws Exception {
		Thread[] workers = new Thread[WORKERS];
		for (int k = 0; k < WORKERS; k++) {
			final int id = k;
			workers[k] = new Thread(() -> {
				try (PrintWriter out = new PrintWriter(new FileWriter("worker" + id + ".txt", true))) {
					for (long seq = 1; running; seq++) {
						out.println(seq + " " + global.incrementAndGet());
						out.flush();
						Thread.sleep(1);
					}
				} catch (IOException | InterruptedException e) {
					System.err.println("worker " + id + ": " + e);
				}
			}, "worker-" + k);
			workers[k].start();
		}
		Thread main = Thread.currentThread();
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			running = false;
			try {
				for (Thread t : workers)
					t.join();
				main.join(1000);
				Files.writeString(Path.of("done.txt"), "done " + global.get() + " " + ticks.get() + "\n");
			} catch (Exception e) {
				System.err.println("shutdown: " + e);
			}
		}));
		try (PrintWriter out = new PrintWriter(new FileWriter("main.txt", true))) {
			while (running) {
				out.println(ticks.incrementAndGet());
				out.flush();
				Thread.sleep(10);
			}
		}
	}
}
