package cql4.testnode;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Server side of the Amazon Keyspaces SigV4 nonce exchange, with no Cassandra dependency so that
 * {@link SigV4SelfTest} can run it on its own.
 *
 * <p>The client signs, with AWS4-HMAC-SHA256, the canonical request that AWS's SigV4 plugins for
 * the Java, Python and Go drivers build (aws-sigv4-auth-cassandra-*-driver-plugin):
 *
 * <pre>
 * PUT
 * /authenticate
 * X-Amz-Algorithm=AWS4-HMAC-SHA256&amp;X-Amz-Credential=&lt;AK&gt;%2F&lt;scope&gt;&amp;X-Amz-Date=&lt;amzdate&gt;&amp;X-Amz-Expires=900
 * host:cassandra
 *
 * host
 * hex(sha256(nonce))
 * </pre>
 *
 * The region is not sent by the client, so the server recomputes with its own region: a client
 * signing for another region fails the signature check. The session token is not signed; it is
 * returned to the caller, which records only its fingerprint.
 */
public final class SigV4Verifier {
    /** Amazon Keyspaces refuses an amzdate further than this from its clock. */
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(15);
    /** Length of the nonce the AWS plugins cut out of the challenge. */
    public static final int NONCE_LENGTH = 32;
    /** Initial SASL response of the AWS SigV4 plugins. */
    public static final byte[] INITIAL_RESPONSE = "SigV4\0\0".getBytes(StandardCharsets.UTF_8);

    private static final String SERVICE = "cassandra";
    private static final String ALGORITHM = "AWS4-HMAC-SHA256";
    // The Python plugin rounds microseconds to milliseconds and can print ".1000Z"; accept 1-4 digits.
    private static final Pattern AMZDATE =
            Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{1,4}Z");
    private static final Pattern SIGNATURE = Pattern.compile("[0-9a-f]{64}");
    private static final HexFormat HEX = HexFormat.of();

    /** One configured credential: the secret and the role a successful login maps to. */
    public record Credential(String secret, String role) {}

    /** A verified login. {@code sessionToken} is null when the client sent none. */
    public record Verified(String accessKey, String role, String sessionToken) {}

    /** A refused login; the message never contains a secret, a signature or a token. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    private final String region;
    private final Map<String, Credential> credentials;

    public SigV4Verifier(String region, Map<String, Credential> credentials) {
        if (region == null || region.isEmpty()) {
            throw new IllegalArgumentException("SigV4 region is not configured");
        }
        this.region = region;
        this.credentials = Collections.unmodifiableMap(new HashMap<>(credentials));
    }

    public String region() {
        return region;
    }

    /** A fresh 32-character nonce (16 random bytes, hex). */
    public static String newNonce(SecureRandom random) {
        byte[] bytes = new byte[NONCE_LENGTH / 2];
        random.nextBytes(bytes);
        return HEX.formatHex(bytes);
    }

    /** The challenge the server sends after {@code SigV4\0\0}. */
    public static byte[] challenge(String nonce) {
        return ("nonce=" + nonce).getBytes(StandardCharsets.UTF_8);
    }

    /** Verifies the client's reply to {@code nonce=<nonce>} at time {@code now}. */
    public Verified verify(String nonce, byte[] response, Instant now) throws Refused {
        Map<String, String> fields = parse(new String(response, StandardCharsets.UTF_8));
        String signature = required(fields, "signature");
        String accessKey = required(fields, "access_key");
        String amzDate = required(fields, "amzdate");
        String sessionToken = fields.get("session_token");

        if (!SIGNATURE.matcher(signature).matches()) {
            throw new Refused("SigV4: signature is not 64 lowercase hex digits");
        }
        if (!AMZDATE.matcher(amzDate).matches()) {
            throw new Refused("SigV4: amzdate is not yyyy-MM-ddTHH:mm:ss.SSSZ");
        }
        Instant signedAt;
        try {
            signedAt = LocalDateTime.parse(amzDate.substring(0, 19)).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new Refused("SigV4: amzdate is not a valid date");
        }
        if (Duration.between(signedAt, now).abs().compareTo(MAX_CLOCK_SKEW) > 0) {
            throw new Refused("SigV4: amzdate " + amzDate + " is more than 15 minutes from the server clock");
        }
        Credential credential = credentials.get(accessKey);
        if (credential == null) {
            throw new Refused("SigV4: unknown access key");
        }
        String expected = signature(credential.secret(), accessKey, region, amzDate, nonce);
        boolean same = MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII));
        if (!same) {
            throw new Refused("SigV4: signature mismatch (wrong secret, region or nonce)");
        }
        return new Verified(accessKey, credential.role(), sessionToken);
    }

    /** Hex SHA-256 of a session token, shortened: enough to correlate logins, useless to replay. */
    public static String fingerprint(String token) {
        return sha256Hex(token).substring(0, 16);
    }

    /** The signature AWS's plugins send for these inputs. {@code amzDate} is used verbatim. */
    public static String signature(String secret, String accessKey, String region, String amzDate, String nonce) {
        String dateStamp = amzDate.substring(0, 4) + amzDate.substring(5, 7) + amzDate.substring(8, 10);
        String scope = dateStamp + "/" + region + "/" + SERVICE + "/aws4_request";
        List<String> query = new ArrayList<>(List.of(
                "X-Amz-Algorithm=" + ALGORITHM,
                "X-Amz-Credential=" + accessKey + "%2F" + urlEncode(scope),
                "X-Amz-Date=" + urlEncode(amzDate),
                "X-Amz-Expires=900"));
        Collections.sort(query);
        String canonicalRequest = "PUT\n/authenticate\n" + String.join("&", query) + "\nhost:" + SERVICE
                + "\n\nhost\n" + sha256Hex(nonce);
        String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest);
        return HEX.formatHex(hmac(signingKey(secret, dateStamp, region), stringToSign));
    }

    /** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "cassandra"), "aws4_request"). */
    public static byte[] signingKey(String secret, String dateStamp, String region) {
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), dateStamp);
        key = hmac(key, region);
        key = hmac(key, SERVICE);
        return hmac(key, "aws4_request");
    }

    public static String sha256Hex(String data) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HEX.formatHex(digest.digest(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    // Python's quote_plus, which the AWS plugins use, for the characters a scope or amzdate can hold:
    // unreserved characters stay, everything else is %XX (uppercase).
    static String urlEncode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~';
            if (unreserved) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static Map<String, String> parse(String response) throws Refused {
        Map<String, String> fields = new HashMap<>();
        for (String part : response.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new Refused("SigV4: malformed response field (expected key=value)");
            }
            String key = part.substring(0, eq);
            if (fields.put(key, part.substring(eq + 1)) != null) {
                throw new Refused("SigV4: duplicate field " + key);
            }
        }
        return fields;
    }

    private static String required(Map<String, String> fields, String key) throws Refused {
        String value = fields.get(key);
        if (value == null || value.isEmpty()) {
            throw new Refused("SigV4: response lacks " + key);
        }
        return value;
    }
}
