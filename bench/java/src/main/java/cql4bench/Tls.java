package cql4bench;

import com.datastax.oss.driver.api.core.metadata.EndPoint;
import com.datastax.oss.driver.api.core.ssl.SslEngineFactory;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collections;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the session benchmark: trusts only the CA file and checks that the node's
 * certificate carries the given server name (the nodes are reached by IP address, which the
 * certificate does not name, so the driver's own hostname check cannot be used).
 */
final class Tls implements SslEngineFactory {
  private final SSLContext context;
  private final String serverName;

  Tls(String caFile, String serverName) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(Paths.get(caFile))) {
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca" + i++, c);
      }
      if (i == 0) throw new IllegalArgumentException(caFile + " holds no certificate");
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    this.serverName = serverName;
  }

  @Override
  public SSLEngine newSslEngine(EndPoint endPoint) {
    SocketAddress a = endPoint.resolve();
    int port = a instanceof InetSocketAddress ? ((InetSocketAddress) a).getPort() : -1;
    SSLEngine engine = context.createSSLEngine(serverName, port);
    engine.setUseClientMode(true);
    SSLParameters p = engine.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setServerNames(Collections.singletonList(new SNIHostName(serverName)));
    engine.setSSLParameters(p);
    return engine;
  }

  @Override
  public void close() {}
}
