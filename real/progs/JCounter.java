// A small threaded JVM server (real/jvmcounter.py): 4 counter threads each count on their own (one step a
// millisecond); a socket server on 127.0.0.1:PORT (args[0]) answers one command per line with a pool of
// 2 handler threads: "put KEY VALUE" (stored in memory) -> "ok", "get KEY" -> the value or "none",
// "size" -> the number of keys, "stat" -> each counter thread's count. On SIGTERM a shutdown hook writes
// done.txt ("done PUTS") after stopping the counters.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

public class JCounter {
	static final int THREADS = 4;
	static final AtomicLong[] counts = new AtomicLong[THREADS];
	static final ConcurrentHashMap<String, String> store = new ConcurrentHashMap<>();
	static final AtomicLong puts = new AtomicLong();
	static volatile boolean running = true;

	static void handle(Socket s) {
		try (s;
		     BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
		     PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8)) {
			String line;
			while ((line = in.readLine()) != null) {
				String[] w = line.split(" ", 3);
				switch (w[0]) {
				case "put" -> {
					store.put(w[1], w[2]);
					puts.incrementAndGet();
					out.println("ok");
				}
				case "get" -> out.println(store.getOrDefault(w[1], "none"));
				case "size" -> out.println(store.size());
				case "stat" -> {
					StringBuilder b = new StringBuilder();
					for (AtomicLong c : counts)
						b.append(b.length() == 0 ? "" : " ").append(c.get());
					out.println(b);
				}
				default -> out.println("error " + w[0]);
				}
			}
		} catch (Exception e) {
			System.err.println("handler: " + e);
		}
	}

	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(args[0]);
		Thread[] counters = new Thread[THREADS];
		for (int k = 0; k < THREADS; k++) {
			AtomicLong c = counts[k] = new AtomicLong();
			counters[k] = new Thread(() -> {
				while (running) {
					c.incrementAndGet();
					try {
						Thread.sleep(1);
					} catch (InterruptedException e) {
						return;
					}
				}
			}, "counter-" + k);
			counters[k].start();
		}
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			running = false;
			try {
				for (Thread t : counters)
					t.join();
				Files.writeString(Path.of("done.txt"), "done " + puts.get() + "\n");
			} catch (Exception e) {
				System.err.println("shutdown: " + e);
			}
		}));
		ExecutorService pool = Executors.newFixedThreadPool(2);
		try (ServerSocket server = new ServerSocket(port, 16, InetAddress.getLoopbackAddress())) {
			Files.writeString(Path.of("listening"), port + "\n");
			while (true) {
				Socket s = server.accept();
				pool.submit(() -> handle(s));
			}
		}
	}
}
