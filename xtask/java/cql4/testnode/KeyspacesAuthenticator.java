package cql4.testnode;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.cassandra.auth.AuthenticatedUser;
import org.apache.cassandra.auth.PasswordAuthenticator;
import org.apache.cassandra.exceptions.AuthenticationException;
import org.apache.cassandra.exceptions.ConfigurationException;
import org.apache.cassandra.service.ClientState;
import org.apache.cassandra.transport.messages.AuthenticateMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts both logins Amazon Keyspaces accepts: SASL PLAIN (service-specific credentials, checked
 * by Cassandra's own PasswordAuthenticator) and the SigV4 nonce exchange of AWS's SigV4 plugins.
 *
 * <p>It extends PasswordAuthenticator rather than wrapping it because CassandraRoleManager only
 * supports the PASSWORD role option when {@code authenticator instanceof PasswordAuthenticator}.
 *
 * <p>Configured in cassandra.yaml:
 * {@code authenticator: {class_name: cql4.testnode.KeyspacesAuthenticator, parameters: {config: /abs/sigv4.properties}}}
 * where the properties file holds {@code region}, optional {@code announce} (the class name sent in
 * AUTHENTICATE) and per access key {@code key.<AK>.secret} and {@code key.<AK>.role}.
 */
public class KeyspacesAuthenticator extends PasswordAuthenticator {
    private static final Logger logger = LoggerFactory.getLogger(KeyspacesAuthenticator.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SigV4Verifier verifier;
    private final String announce;

    /** Called by ParameterizedClass.newInstance with the yaml {@code parameters} map. */
    public KeyspacesAuthenticator(Map<String, String> parameters) {
        String config = parameters == null ? null : parameters.get("config");
        if (config == null) {
            throw new ConfigurationException("KeyspacesAuthenticator needs parameters: {config: <path of sigv4.properties>}");
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(config))) {
            props.load(in);
        } catch (IOException e) {
            throw new ConfigurationException("KeyspacesAuthenticator cannot read " + config + ": " + e);
        }
        Map<String, SigV4Verifier.Credential> keys = new HashMap<>();
        for (String name : props.stringPropertyNames()) {
            if (name.startsWith("key.") && name.endsWith(".secret")) {
                String accessKey = name.substring(4, name.length() - 7);
                String role = props.getProperty("key." + accessKey + ".role");
                if (role == null) {
                    throw new ConfigurationException("KeyspacesAuthenticator: key." + accessKey + ".role is missing");
                }
                keys.put(accessKey, new SigV4Verifier.Credential(props.getProperty(name), role));
            }
        }
        this.verifier = new SigV4Verifier(props.getProperty("region"), keys);
        this.announce = props.getProperty("announce", KeyspacesAuthenticator.class.getName());
        logger.info("KeyspacesAuthenticator: SASL PLAIN + SigV4 (region {}, {} access key(s), announced as {})",
                verifier.region(), keys.size(), announce);
    }

    @Override
    public AuthenticateMessage getAuthenticateMessage(ClientState clientState) {
        return new AuthenticateMessage(announce);
    }

    @Override
    public SaslNegotiator newSaslNegotiator(InetAddress clientAddress) {
        return new Negotiator(clientAddress);
    }

    /**
     * Chooses the mechanism from the first response: exactly {@code SigV4\0\0} starts the nonce
     * exchange, anything else is handed to PasswordAuthenticator's PLAIN negotiator.
     */
    private final class Negotiator implements SaslNegotiator {
        private final InetAddress client;
        private SaslNegotiator plain;
        private String nonce;
        private AuthenticatedUser user;

        Negotiator(InetAddress client) {
            this.client = client;
        }

        @Override
        public byte[] evaluateResponse(byte[] response) throws AuthenticationException {
            if (plain != null) {
                return plain.evaluateResponse(response);
            }
            if (user != null) {
                throw new AuthenticationException("SigV4: negotiation already complete");
            }
            if (nonce == null) {
                if (Arrays.equals(response, SigV4Verifier.INITIAL_RESPONSE)) {
                    nonce = SigV4Verifier.newNonce(RANDOM);
                    return SigV4Verifier.challenge(nonce);
                }
                plain = KeyspacesAuthenticator.super.newSaslNegotiator(client);
                return plain.evaluateResponse(response);
            }
            try {
                SigV4Verifier.Verified verified = verifier.verify(nonce, response, Instant.now());
                String token = verified.sessionToken();
                logger.info("SigV4 login from {}: access_key={} role={} session_token_sha256={}", client,
                        verified.accessKey(), verified.role(), token == null ? "none" : SigV4Verifier.fingerprint(token));
                user = new AuthenticatedUser(verified.role());
                return null;
            } catch (SigV4Verifier.Refused e) {
                logger.info("SigV4 login from {} refused: {}", client, e.getMessage());
                throw new AuthenticationException(e.getMessage());
            }
        }

        @Override
        public boolean isComplete() {
            return plain != null ? plain.isComplete() : user != null;
        }

        @Override
        public AuthenticatedUser getAuthenticatedUser() throws AuthenticationException {
            if (plain != null) {
                return plain.getAuthenticatedUser();
            }
            if (user == null) {
                throw new AuthenticationException("SigV4: negotiation not complete");
            }
            return user;
        }
    }
}
