package dev.sessionkit.mongojava;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import java.util.List;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Runs mongo-java-server with its in-memory backend on 127.0.0.1:&lt;port&gt;
 * until the process is killed. Loopback only: it is a test server. It
 * reports wire version 13 (MongoDB 5.0): the server's own versions top out
 * at wire version 8, older than Go driver v2 accepts (9, MongoDB 4.4). The
 * driver only uses it to pick the OP_MSG protocol, which the server speaks.
 */
public final class Main {
    private Main() {}

    /** The version reported in hello/buildInfo. */
    static final MongoVersion WIRE_13 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: java -jar mongojava.jar <port>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        MongoServer server = new MongoServer(new MemoryBackend().version(WIRE_13));
        server.bind("127.0.0.1", port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        System.out.println("mongo-java-server listening on 127.0.0.1:" + port);
        Thread.currentThread().join();
    }
}
