/*
 * Single-node OpenSearch 2.19 embedded in a plain JVM, for local development and CI.
 *
 * Why not the official distribution:
 *  - org.opensearch.bootstrap.Bootstrap refuses to run as root ("can not run opensearch
 *    as root", no override), and our machines run everything as root;
 *  - the zip on Maven Central ships only the transport-* modules (no analysis-common,
 *    so no "english" analyzer, no reindex, no painless...).
 *
 * So this launcher builds an org.opensearch.node.Node directly from jars on the class
 * path (see pom.xml). Bypassing Bootstrap means: no root check, no JarHell check, no
 * SecurityManager, no seccomp/mlock natives, no keystore, and no bootstrap checks (those
 * are only enforced for non-loopback, non-single-node setups anyway). Modules that a
 * distribution would load from modules/ are passed as "classpath plugins" through the
 * protected constructor Node(Environment, Collection<Class<? extends Plugin>>, boolean),
 * which is why we subclass Node.
 *
 * Usage (opensearch.sh does this):
 *   java -Dopensearch.path.conf=CONF_DIR -cp 'lib/*:classes' EmbeddedOpenSearch \
 *        -Epath.home=HOME -Epath.data=DATA -Epath.logs=LOGS -Ehttp.port=9200 ...
 * Any -Ekey=value (or key=value) argument becomes a node setting and overrides the
 * defaults below. CONF_DIR must hold log4j2.properties (opensearch.yml there is optional).
 * SIGTERM/SIGINT close the node cleanly through a shutdown hook.
 */

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public final class EmbeddedOpenSearch {

    /** The modules a distribution would load from modules/ (2.19 class names). */
    static final List<Class<? extends Plugin>> MODULES = List.of(
        org.opensearch.transport.Netty4Plugin.class,               // HTTP + transport
        org.opensearch.analysis.common.CommonAnalysisPlugin.class, // english analyzer etc.
        org.opensearch.index.mapper.MapperExtrasPlugin.class,      // scaled_float, search_as_you_type...
        org.opensearch.painless.PainlessPlugin.class,              // scripts
        org.opensearch.index.reindex.ReindexPlugin.class,          // _reindex, _update/_delete_by_query
        org.opensearch.ingest.common.IngestCommonPlugin.class,     // ingest processors
        org.opensearch.percolator.PercolatorPlugin.class           // percolator field + query (alerts)
    );

    /** Node's constructor with classpath plugins is protected. */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        Settings.Builder b = Settings.builder()
            .put("cluster.name", "newsflow-local")
            .put("node.name", "node-1")
            .put("network.host", "127.0.0.1")          // loopback only
            .put("http.port", "9200")
            .put("transport.port", "9300-9399")        // first free one; nothing connects to it
            .put("discovery.type", "single-node")
            .put("cluster.routing.allocation.disk.threshold_enabled", false) // no watermarks
            .put("bootstrap.memory_lock", false)
            .put("node.portsfile", true);              // writes <logs>/http.ports
        for (String a : args) {
            String kv = a.startsWith("-E") ? a.substring(2) : a;
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                System.err.println("EmbeddedOpenSearch: expected -Ekey=value, got: " + a);
                System.exit(2);
            }
            b.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        Settings settings = b.build();
        if (settings.get("path.home") == null) {
            System.err.println("EmbeddedOpenSearch: -Epath.home=DIR is required");
            System.exit(2);
        }
        Path home = Paths.get(settings.get("path.home")).toAbsolutePath();
        String conf = System.getProperty("opensearch.path.conf");
        Path confDir = conf != null ? Paths.get(conf).toAbsolutePath() : home.resolve("config");
        // PluginsService lists these directories; they stay empty (modules come from the class path).
        Files.createDirectories(home.resolve("modules"));
        Files.createDirectories(home.resolve("plugins"));

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), confDir, () -> settings.get("node.name"));
        Files.createDirectories(env.logsFile());
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(env.settings().get("node.name"));
        LogConfigurator.configure(env); // reads confDir/log4j2.properties

        final Node node = new EmbeddedNode(env, MODULES);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                // log4j's own hook is disabled (-Dlog4j.shutdownHookEnabled=false) so that
                // the node can still log while closing; flush and stop it here.
                Configurator.shutdown((LoggerContext) LogManager.getContext(false));
                stopped.countDown();
            }
        }, "opensearch-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1); // runs the hook, which closes what was started
        }
        System.out.println("EmbeddedOpenSearch started: http://" + settings.get("network.host")
            + ":" + settings.get("http.port") + " (pid " + ProcessHandle.current().pid() + ")");
        // Node threads are daemons: keep a non-daemon thread (main) alive until shutdown.
        stopped.await();
    }
}
