package cql4bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;

/**
 * End-to-end client for the Apache Cassandra Java driver: prepares the benchmark select and
 * insert, keeps --concurrency requests in flight (each completion starts the next request),
 * and prints one JSON record in the format of cql4-bench's Record.
 *
 * <p>With --rate R it runs the open loop of cql4-bench's drive_open instead: request k is due
 * k/R seconds after the start and is sent by the scheduling thread when due (parked until
 * then), its latency counted from when it was due; at most
 * --concurrency are outstanding (a request due beyond that is dropped and counted), and those
 * still unanswered a second after the schedule ended are late.
 *
 * <p>With --session (cargo xtask bench --session) it is the session benchmark's Java driver:
 * contact point --host, discovery on, the driver's default configuration (pool, load-balancing
 * policy, max requests per connection, consistency), TLS against --ca (certificate and
 * --server-name checked) and a plain-text login (--user, and the password in
 * CQL4_BENCH_PASSWORD so it is not on the command line).
 */
public final class Main {
  static final String SELECT = "SELECT id, name, payload FROM %s.t WHERE id = ?";
  static final String INSERT = "INSERT INTO %s.t (id, name, payload) VALUES (?, ?, ?)";
  static final int SELECT_ID = 42;

  static String host = "127.0.0.1";
  static int port = 19042;
  static String workload = "select";
  static int concurrency = 1;
  static String pool = "one";
  static double warmup = 2;
  static double duration = 5;
  static boolean sessionMode = false;
  static String keyspace = "bench";
  static String localDc = "datacenter1";
  static String ca = null;
  static String serverName = null;
  static String user = null;
  static double rate = 0;

  static final AtomicBoolean measuring = new AtomicBoolean();
  static final AtomicBoolean stop = new AtomicBoolean();
  static final AtomicLong errors = new AtomicLong();
  static final AtomicLong counter = new AtomicLong();
  static final Recorder recorder = new Recorder(1, 60_000_000_000L, 3);
  static CountDownLatch finished;
  static CqlSession session;
  static PreparedStatement stmt;
  static final ByteBuffer PAYLOAD = payload();

  static ByteBuffer payload() {
    byte[] b = new byte[100];
    for (int i = 0; i < b.length; i++) b[i] = (byte) i;
    return ByteBuffer.wrap(b);
  }

  static double cpuSeconds() {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return os.getProcessCpuTime() / 1e9;
  }

  static long maxRssKb() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception e) {
      // fall through
    }
    return 0;
  }

  static void next() {
    if (stop.get()) {
      finished.countDown();
      return;
    }
    long i = counter.getAndIncrement();
    long t = System.nanoTime();
    java.util.concurrent.CompletionStage<AsyncResultSet> f;
    if (workload.equals("select")) {
      f = session.executeAsync(stmt.bind(SELECT_ID));
    } else {
      f = session.executeAsync(
          stmt.bind((int) (1000 + i % 100000), "name-inserted", PAYLOAD.duplicate()));
    }
    f.whenComplete((rs, err) -> {
      long ns = System.nanoTime() - t;
      boolean ok = err == null;
      if (ok && workload.equals("select")) {
        Row row = rs.one();
        ok = row != null && row.getInt(0) == SELECT_ID && !row.getString(1).isEmpty()
            && row.getByteBuffer(2).remaining() == 100;
        if (!ok) err = new IllegalStateException("unexpected row");
      }
      if (!ok) {
        errors.incrementAndGet();
        System.err.println("request failed: " + err);
        if (!measuring.get()) stop.set(true);
      } else if (measuring.get() && !stop.get()) {
        recorder.recordValue(Math.max(1, ns));
      }
      next();
    });
  }

  static String driverVersion() throws java.io.IOException {
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(
        Main.class.getProtectionDomain().getCodeSource().getLocation().getPath())) {
      return jar.getManifest().getMainAttributes().getValue("Driver-Version");
    }
  }

  static java.util.concurrent.CompletionStage<AsyncResultSet> request(long i) {
    if (workload.equals("select")) return session.executeAsync(stmt.bind(SELECT_ID));
    return session.executeAsync(
        stmt.bind((int) (1000 + i % 100000), "name-inserted", PAYLOAD.duplicate()));
  }

  static boolean rowOk(AsyncResultSet rs) {
    if (!workload.equals("select")) return true;
    Row row = rs.one();
    return row != null && row.getInt(0) == SELECT_ID && !row.getString(1).isEmpty()
        && row.getByteBuffer(2).remaining() == 100;
  }

  /** The open loop (--rate): see the class comment. */
  static void openLoop(String note) throws Exception {
    final long start = System.nanoTime();
    final long total = (long) Math.ceil((warmup + duration) * rate);
    final long winStart = start + (long) (warmup * 1e9);
    final long winEnd = winStart + (long) (duration * 1e9);
    final long drain = winEnd + 1_000_000_000L;
    final AtomicLong outstanding = new AtomicLong();
    long dropped = 0;
    double cpu0 = -1;
    for (long k = 0; k < total; k++) {
      final long due = start + (long) (k / rate * 1e9);
      // Parked, not spinning: a spinning thread on the one client core starves the driver's
      // event loop (parkNanos is about 60 µs late at worst, the kernel's timer slack).
      long wait = due - System.nanoTime();
      if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
      final boolean in = due >= winStart && due < winEnd;
      if (in && cpu0 < 0) cpu0 = cpuSeconds();
      if (outstanding.get() >= concurrency) {
        if (in) dropped++;
        continue;
      }
      outstanding.incrementAndGet();
      request(k).whenComplete((rs, err) -> {
        long ns = System.nanoTime() - due;
        outstanding.decrementAndGet();
        if (err == null && !rowOk(rs)) err = new IllegalStateException("unexpected row");
        if (err != null) {
          if (errors.incrementAndGet() == 1) System.err.println("first error: " + err);
        } else if (in) {
          recorder.recordValue(Math.max(1, ns));
        }
      });
    }
    while (outstanding.get() > 0 && System.nanoTime() < drain) Thread.sleep(1);
    double cpu1 = cpuSeconds();
    long late = outstanding.get();
    Histogram h = recorder.getIntervalHistogram();
    long maxrss = maxRssKb();
    long n = h.getTotalCount();
    StringBuilder hdr = new StringBuilder();
    for (int i = 3; i <= 50; i++) {
      double p = 1 - Math.pow(10, -i / 10.0);
      if ((1 - p) * n < 1) break;
      hdr.append(String.format(Locale.ROOT, "[%.6f,%.3f],", p * 100,
          h.getValueAtPercentile(p * 100) / 1000.0));
    }
    hdr.append(String.format(Locale.ROOT, "[100,%.3f]", h.getMaxValue() / 1000.0));
    String json = String.format(Locale.ROOT,
        "{\"driver\":\"java\",\"driver_version\":\"%s\",\"workload\":\"%s\",\"concurrency\":%d,"
            + "\"pool\":\"%s\",\"requests\":%d,\"errors\":%d,\"seconds\":%.6f,\"throughput\":%.3f,"
            + "\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"cpu_us_per_req\":%.4f,"
            + "\"maxrss_kb\":%d,\"note\":\"%s, open loop\",\"rate\":%.3f,\"dropped\":%d,"
            + "\"late\":%d,\"max_us\":%.3f,\"hdr\":[%s]}",
        driverVersion(), workload, concurrency, pool, n, errors.get(), duration, n / duration,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0, (cpu1 - Math.max(cpu0, 0)) * 1e6 / Math.max(1, n),
        maxrss, note, rate, dropped, late, h.getMaxValue() / 1000.0, hdr);
    System.out.println(json);
    System.out.flush();
    if (late == 0) session.close();
    System.exit(n > 0 && errors.get() == 0 ? 0 : 1);
  }

  public static void main(String[] args) throws Exception {
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--session")) {
        sessionMode = true;
        i--;
        continue;
      }
      if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
      String v = args[i + 1];
      switch (args[i]) {
        case "--host": host = v; break;
        case "--port": port = Integer.parseInt(v); break;
        case "--workload": workload = v; break;
        case "--concurrency": concurrency = Integer.parseInt(v); break;
        case "--pool": pool = v; break;
        case "--warmup": warmup = Double.parseDouble(v); break;
        case "--duration": duration = Double.parseDouble(v); break;
        case "--keyspace": keyspace = v; break;
        case "--local-dc": localDc = v; break;
        case "--ca": ca = v; break;
        case "--server-name": serverName = v; break;
        case "--user": user = v; break;
        case "--rate": rate = Double.parseDouble(v); break;
        default: throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    ProgrammaticDriverConfigLoaderBuilder cfg = DriverConfigLoader.programmaticBuilder()
        .withString(DefaultDriverOption.PROTOCOL_VERSION, "V4");
    String note;
    if (sessionMode) {
      pool = "default";
      note = "session, defaults (discovery, default pool, load-balancing policy, max requests)";
    } else {
      cfg = cfg.withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30))
          // The default (1,024) would refuse the 1,024-in-flight point plus the odd control
          // query; raised so that point measures the driver rather than its throttle.
          .withInt(DefaultDriverOption.CONNECTION_MAX_REQUESTS, 32768);
      note = "default pool (1 local connection), max-requests-per-connection 32768";
      if (pool.equals("one")) {
        cfg = cfg.withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 1);
        note = "pool local size 1, max-requests-per-connection 32768";
      }
    }
    com.datastax.oss.driver.api.core.CqlSessionBuilder builder = CqlSession.builder()
        .addContactPoint(new InetSocketAddress(host, port))
        .withLocalDatacenter(localDc)
        .withConfigLoader(cfg.build());
    if (ca != null) {
      if (serverName == null) throw new IllegalArgumentException("--ca needs --server-name");
      builder = builder.withSslEngineFactory(new Tls(ca, serverName));
    }
    if (user != null) {
      String password = System.getenv("CQL4_BENCH_PASSWORD");
      builder = builder.withAuthCredentials(user, password == null ? "" : password);
    }
    session = builder.build();
    stmt = session.prepare(String.format(workload.equals("select") ? SELECT : INSERT, keyspace));
    if (rate > 0) {
      openLoop(note);
      return;
    }
    finished = new CountDownLatch(concurrency);
    for (int w = 0; w < concurrency; w++) next();
    Thread.sleep((long) (warmup * 1000));
    recorder.getIntervalHistogram(); // drop anything recorded before the window
    double cpu0 = cpuSeconds();
    long t0 = System.nanoTime();
    measuring.set(true);
    Thread.sleep((long) (duration * 1000));
    stop.set(true);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpu1 = cpuSeconds();
    Histogram h = recorder.getIntervalHistogram();
    finished.await(60, java.util.concurrent.TimeUnit.SECONDS);
    long maxrss = maxRssKb();
    session.close();
    long n = h.getTotalCount();
    String json = String.format(Locale.ROOT,
        "{\"driver\":\"java\",\"driver_version\":\"%s\",\"workload\":\"%s\",\"concurrency\":%d,"
            + "\"pool\":\"%s\",\"requests\":%d,\"errors\":%d,\"seconds\":%.6f,\"throughput\":%.3f,"
            + "\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"cpu_us_per_req\":%.4f,"
            + "\"maxrss_kb\":%d,\"note\":\"%s\"}",
        driverVersion(), workload, concurrency, pool, n, errors.get(), seconds, n / seconds,
        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
        h.getValueAtPercentile(99.9) / 1000.0, (cpu1 - cpu0) * 1e6 / Math.max(1, n), maxrss,
        note);
    System.out.println(json);
    System.out.flush();
    System.exit(n > 0 && errors.get() == 0 ? 0 : 1);
  }
}
