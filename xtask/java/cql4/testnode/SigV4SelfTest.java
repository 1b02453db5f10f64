package cql4.testnode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;

/**
 * Checks {@link SigV4Verifier} against the cross-plugin vector of AWS's SigV4 plugins
 * (/work/shared/PEERS.md) and against the refusals the test node must make. Run by
 * `cargo xtask cassandra start` after compiling; exits 1 on the first failed check.
 */
public final class SigV4SelfTest {
    private static int passed;

    public static void main(String[] args) {
        String nonce = "91703fdc2ef562e19fbdab0f58e42fe5";
        String region = "us-west-2";
        String key = "UserID-1";
        String secret = "UserSecretKey-1";
        String amzDate = "2020-06-09T22:41:51.000Z";
        Instant signedAt = Instant.parse("2020-06-09T22:41:51Z");

        check("signing key", HexFormat.of().formatHex(SigV4Verifier.signingKey(secret, "20200609", region)),
                "7fb139473f153aec1b05747b0cd5cd77a1186d22ae895a3a0128e699d72e1aba");
        check("nonce hash", SigV4Verifier.sha256Hex(nonce),
                "ddf250111597b3f35e51e649f59e3f8b30ff5b247166d709dc1b1e60bd927070");
        String signature = SigV4Verifier.signature(secret, key, region, amzDate, nonce);
        check("signature", signature, "7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87");

        SigV4Verifier verifier = new SigV4Verifier(region, Map.of(key, new SigV4Verifier.Credential(secret, "role1")));
        String response = "signature=" + signature + ",access_key=" + key + ",amzdate=" + amzDate;
        Instant now = signedAt.plusSeconds(60);

        SigV4Verifier.Verified ok = accept("vector response", verifier, nonce, response, now);
        check("role of vector response", ok.role(), "role1");
        check("no session token", String.valueOf(ok.sessionToken()), "null");
        SigV4Verifier.Verified withToken =
                accept("vector response with session token", verifier, nonce, response + ",session_token=IQo+/tok==", now);
        check("session token recorded", withToken.sessionToken(), "IQo+/tok==");

        refuse("wrong secret", new SigV4Verifier(region, Map.of(key, new SigV4Verifier.Credential("other", "role1"))),
                nonce, response, now);
        refuse("wrong region", new SigV4Verifier("us-east-1", Map.of(key, new SigV4Verifier.Credential(secret, "role1"))),
                nonce, response, now);
        refuse("unknown access key", verifier, nonce, response.replace("UserID-1", "UserID-2"), now);
        refuse("other nonce", verifier, "00000000000000000000000000000000", response, now);
        refuse("amzdate 16 minutes old", verifier, nonce, response, signedAt.plus(Duration.ofMinutes(16)));
        refuse("amzdate 16 minutes ahead", verifier, nonce, response, signedAt.minus(Duration.ofMinutes(16)));
        accept("amzdate 14 minutes old", verifier, nonce, response, signedAt.plus(Duration.ofMinutes(14)));
        refuse("missing signature", verifier, nonce, "access_key=" + key + ",amzdate=" + amzDate, now);
        refuse("malformed field", verifier, nonce, response + ",junk", now);
        refuse("duplicate field", verifier, nonce, response + ",access_key=" + key, now);
        refuse("uppercase signature", verifier, nonce, response.replace(signature, signature.toUpperCase()), now);

        String fresh = SigV4Verifier.newNonce(new java.security.SecureRandom());
        check("nonce length", String.valueOf(fresh.length()), "32");
        check("challenge", new String(SigV4Verifier.challenge("abc"), StandardCharsets.UTF_8), "nonce=abc");
        System.out.println("SigV4 self-test: " + passed + " checks passed (AWS plugin vector included)");
    }

    private static void check(String what, String actual, String expected) {
        if (!expected.equals(actual)) {
            fail(what + ": expected " + expected + ", got " + actual);
        }
        passed++;
    }

    private static SigV4Verifier.Verified accept(String what, SigV4Verifier v, String nonce, String response, Instant now) {
        try {
            SigV4Verifier.Verified verified = v.verify(nonce, response.getBytes(StandardCharsets.UTF_8), now);
            passed++;
            return verified;
        } catch (SigV4Verifier.Refused e) {
            fail(what + ": refused: " + e.getMessage());
            return null;
        }
    }

    private static void refuse(String what, SigV4Verifier v, String nonce, String response, Instant now) {
        try {
            v.verify(nonce, response.getBytes(StandardCharsets.UTF_8), now);
        } catch (SigV4Verifier.Refused e) {
            passed++;
            return;
        }
        fail(what + ": accepted but must be refused");
    }

    private static void fail(String message) {
        System.err.println("SigV4 self-test FAILED: " + message);
        System.exit(1);
    }
}
