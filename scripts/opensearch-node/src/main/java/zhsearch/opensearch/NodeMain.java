package zhsearch.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * Starts one OpenSearch node in this JVM, with the modules it needs loaded
 * from the classpath instead of a distribution's modules/ folder.
 *
 * <pre>
 * java -Xms1g -Xmx1g -jar opensearch-node.jar --home DIR --node-name n1 \
 *     [--cluster-name zhsearch-dev] [--host 127.0.0.1] [--http-port 9200] [--transport-port 9300] \
 *     [--seed-hosts 127.0.0.1:9301,127.0.0.1:9302] [--initial-cluster-managers n1,n2,n3] \
 *     [--plugin fully.qualified.PluginClass]... [-E key=value]...
 * </pre>
 *
 * Without --seed-hosts the node runs with discovery.type=single-node. The node
 * keeps data in DIR/data and logs to DIR/logs/opensearch.log; DIR/config holds
 * log4j2.properties and an opensearch.yml for any further settings (the command
 * line wins over it). SIGTERM closes the node cleanly.
 */
public final class NodeMain {

    /** Modules the project's indices and queries need: HTTP/transport and the common analyzers. */
    private static final List<String> DEFAULT_PLUGINS = List.of(
            "org.opensearch.transport.Netty4Plugin",
            "org.opensearch.analysis.common.CommonAnalysisPlugin");

    private NodeMain() {}

    /** A Node built from classpath plugin classes. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, List<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }

        @Override
        protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
            // The listener only adds node and cluster ids to JSON log lines; plain-text logs don't use them.
        }
    }

    public static void main(String[] args) {
        // What the distribution's launcher and jvm.options set before anything touches log4j or Netty.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.setProperty("log4j2.disable.jmx", "true");
        System.setProperty("log4j2.formatMsgNoLookups", "true");
        System.setProperty("io.netty.noUnsafe", "true");
        System.setProperty("io.netty.noKeySetOptimization", "true");
        System.setProperty("io.netty.recycler.maxCapacityPerThread", "0");
        System.setProperty("io.netty.allocator.numDirectArenas", "0");

        final Node node;
        try {
            node = start(args);
        } catch (UsageException e) {
            System.err.println("opensearch-node: " + e.getMessage());
            System.exit(2);
            return;
        } catch (Throwable t) {
            System.err.println("opensearch-node: the node failed to start");
            t.printStackTrace();
            System.exit(1);
            return;
        }

        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(20, TimeUnit.SECONDS)) {
                    System.err.println("opensearch-node: node did not close within 20s");
                }
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                Configurator.shutdown((LoggerContext) LogManager.getContext(false));
                closed.countDown();
            }
        }, "opensearch-node-shutdown"));

        System.out.println("opensearch-node: started " + node.settings().get("node.name"));
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static Node start(String[] args) throws Exception {
        final Map<String, String> opts = new LinkedHashMap<>();
        final Settings.Builder extra = Settings.builder();
        final List<String> pluginNames = new ArrayList<>(DEFAULT_PLUGINS);
        for (int i = 0; i < args.length; i++) {
            final String arg = args[i];
            if (i + 1 >= args.length) {
                throw new UsageException("missing value after " + arg);
            }
            final String value = args[++i];
            switch (arg) {
                case "-E": {
                    final int eq = value.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("-E wants key=value, got " + value);
                    }
                    extra.put(value.substring(0, eq), value.substring(eq + 1));
                    break;
                }
                case "--plugin":
                    pluginNames.add(value);
                    break;
                case "--home":
                case "--node-name":
                case "--cluster-name":
                case "--host":
                case "--http-port":
                case "--transport-port":
                case "--seed-hosts":
                case "--initial-cluster-managers":
                    opts.put(arg.substring(2), value);
                    break;
                default:
                    throw new UsageException("unknown option " + arg);
            }
        }
        if (!opts.containsKey("home") || !opts.containsKey("node-name")) {
            throw new UsageException("--home and --node-name are required");
        }

        final Path home = Paths.get(opts.get("home")).toAbsolutePath().normalize();
        final Path config = home.resolve("config");
        final Path data = home.resolve("data");
        final Path logs = home.resolve("logs");
        for (Path dir : Arrays.asList(config, data, logs, home.resolve("modules"), home.resolve("plugins"))) {
            Files.createDirectories(dir);
        }
        copyIfAbsent("log4j2.properties", config.resolve("log4j2.properties"));
        copyIfAbsent("opensearch.yml", config.resolve("opensearch.yml"));

        final String nodeName = opts.get("node-name");
        final Settings.Builder settings = Settings.builder()
                .put("path.home", home.toString())
                .put("path.data", data.toString())
                .put("path.logs", logs.toString())
                .put("node.name", nodeName)
                .put("cluster.name", opts.getOrDefault("cluster-name", "zhsearch-dev"))
                .put("network.host", opts.getOrDefault("host", "127.0.0.1"))
                .put("http.port", opts.getOrDefault("http-port", "9200"))
                .put("transport.port", opts.getOrDefault("transport-port", "9300"))
                // A dev or CI disk may be fuller than the 85/90% watermarks; don't let that turn the cluster yellow.
                .put("cluster.routing.allocation.disk.threshold_enabled", false);
        final List<String> seeds = splitList(opts.get("seed-hosts"));
        if (seeds.isEmpty()) {
            settings.put("discovery.type", "single-node");
        } else {
            settings.putList("discovery.seed_hosts", seeds);
            final List<String> managers = splitList(opts.get("initial-cluster-managers"));
            if (!managers.isEmpty()) {
                settings.putList("cluster.initial_cluster_manager_nodes", managers);
            }
        }
        settings.put(extra.build());

        final Environment environment =
                InternalSettingsPreparer.prepareEnvironment(settings.build(), Collections.emptyMap(), config, () -> nodeName);
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(environment);

        final List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : pluginNames) {
            plugins.add(Class.forName(name).asSubclass(Plugin.class));
        }
        final Node node = new ClasspathNode(environment, plugins);
        node.start();
        return node;
    }

    private static List<String> splitList(String value) {
        final List<String> out = new ArrayList<>();
        if (value != null) {
            for (String part : value.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    private static void copyIfAbsent(String resource, Path target) throws IOException {
        if (Files.exists(target)) {
            return;
        }
        try (InputStream in = NodeMain.class.getResourceAsStream("/config/" + resource)) {
            if (in == null) {
                throw new IOException("resource /config/" + resource + " is missing from the launcher jar");
            }
            Files.copy(in, target);
        }
    }

    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}
