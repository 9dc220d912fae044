// A pooled Apache HttpClient 4.5 client for the pooled-clients tests: runs one scenario against a
// linger server and prints {"requests","ok","failures","refused","retries","resets","errors"} as JSON.
// Usage: HttpClientProbe <idle|limit|close> <url> <workers> <arg> <hint|ignore> [evictIdleMs]
// "hint": the default DefaultConnectionKeepAliveStrategy, which reads Keep-Alive: timeout.
// "ignore": a strategy that keeps connections indefinitely, as clients that ignore the hint do.
// evictIdleMs: evictIdleConnections and setValidateAfterInactivity, the settings for the latter.

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.http.HttpResponse;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.DefaultHttpRequestRetryHandler;
import org.apache.http.impl.client.HttpClientBuilder;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.protocol.HttpContext;
import org.apache.http.util.EntityUtils;

public class HttpClientProbe {
  static int requests, ok, failures, refused, retries, resets;
  static final List<String> errors = new ArrayList<>();

  static synchronized void count(boolean success, String message) {
    requests++;
    if (success) { ok++; return; }
    // A new connection after the server stopped listening: the request never left the client.
    if (message != null && message.contains("Connection refused")) refused++;
    else failures++;
    if (message != null && message.toLowerCase().contains("reset")) resets++;
    if (errors.size() < 5) errors.add(message);
  }

  static synchronized void retried(IOException e) {
    retries++;
    String message = String.valueOf(e.getMessage());
    if (message.toLowerCase().contains("reset")) resets++;
    if (errors.size() < 5) errors.add("retried: " + e.getClass().getSimpleName() + ": " + message);
  }

  static CloseableHttpClient client(int poolSize, boolean hint, long evictIdleMs) {
    PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
    pool.setMaxTotal(poolSize);
    pool.setDefaultMaxPerRoute(poolSize); // 2 by default
    if (evictIdleMs > 0) pool.setValidateAfterInactivity((int) evictIdleMs);
    HttpClientBuilder builder = HttpClientBuilder.create().setConnectionManager(pool)
        // The default retry policy (3 times, idempotent requests), counted.
        .setRetryHandler(new DefaultHttpRequestRetryHandler(3, false) {
          @Override
          public boolean retryRequest(IOException e, int executionCount, HttpContext context) {
            boolean retry = super.retryRequest(e, executionCount, context);
            if (retry) retried(e);
            return retry;
          }
        });
    if (!hint) builder.setKeepAliveStrategy((HttpResponse response, HttpContext context) -> -1);
    if (evictIdleMs > 0) builder.evictIdleConnections(evictIdleMs, TimeUnit.MILLISECONDS);
    return builder.build();
  }

  static void get(CloseableHttpClient client, String url) {
    try (CloseableHttpResponse response = client.execute(new HttpGet(url))) {
      EntityUtils.consume(response.getEntity());
      int status = response.getStatusLine().getStatusCode();
      count(status == 200, "status " + status);
    } catch (IOException e) {
      count(false, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  interface Body { void run(int worker) throws Exception; }

  static void inWorkers(int workers, Body body) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      final int worker = w;
      Thread thread = new Thread(() -> {
        try { body.run(worker); } catch (Exception e) { count(false, e.toString()); }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) thread.join();
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0], base = args[1], arg = args[3];
    int workers = Integer.parseInt(args[2]);
    boolean hint = args[4].equals("hint");
    long evictIdleMs = args.length > 5 ? Long.parseLong(args[5]) : 0;
    if (mode.equals("idle")) {
      // One pool per worker, so each connection's idle time is exactly the gap before its next request.
      String[] parts = arg.split(",");
      inWorkers(workers, (w) -> {
        try (CloseableHttpClient client = client(1, hint, evictIdleMs)) {
          get(client, base + "/");
          for (int i = 0; i < parts.length; i++) {
            Thread.sleep(Long.parseLong(parts[(i + w) % parts.length]));
            get(client, base + "/");
          }
        }
      });
    } else if (mode.equals("limit")) {
      int count = Integer.parseInt(arg);
      try (CloseableHttpClient client = client(workers, hint, evictIdleMs)) {
        inWorkers(workers, (w) -> { for (int i = 0; i < count; i++) get(client, base + "/"); });
      }
    } else {
      try (CloseableHttpClient client = client(workers, hint, evictIdleMs)) {
        inWorkers(workers, (w) -> get(client, base + "/warm"));
        inWorkers(workers, (w) -> {
          if (w % 2 == 0) get(client, base + "/slow?ms=" + arg);
          else {
            Thread.sleep(200);
            get(client, base + "/");
          }
        });
      }
    }
    StringBuilder json = new StringBuilder();
    json.append(String.format("{\"requests\":%d,\"ok\":%d,\"failures\":%d,\"refused\":%d,\"retries\":%d,\"resets\":%d,\"errors\":[", requests, ok, failures, refused, retries, resets));
    for (int i = 0; i < errors.size(); i++) {
      if (i > 0) json.append(',');
      json.append('"').append(errors.get(i).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    }
    System.out.println(json.append("]}"));
  }
}
