package pingperf;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The deployment phase: reads the configuration, loads and initializes every class of the application
 * archive, and builds the route table from the {@link Route} methods it finds.
 */
final class Deployment {
    /** A resource method bound to its instance. */
    record Endpoint(String path, String contentType, MethodHandle handler) {
        String invoke(Request request) throws Throwable {
            return (String) handler.invoke(request);
        }
    }

    final AppConfig config;
    final Map<String, Endpoint> routes;
    final List<Object> resources;

    private Deployment(AppConfig config, Map<String, Endpoint> routes, List<Object> resources) {
        this.config = config;
        this.routes = routes;
        this.resources = resources;
    }

    static Deployment deploy() throws IOException, ReflectiveOperationException, URISyntaxException {
        AppConfig config = AppConfig.load();
        List<Class<?>> classes = loadApplicationClasses();

        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Map<String, Endpoint> routes = new LinkedHashMap<>();
        List<Object> resources = new ArrayList<>();
        for (Class<?> type : classes) {
            List<Method> routeMethods = new ArrayList<>();
            for (Method method : type.getDeclaredMethods()) {
                if (method.isAnnotationPresent(Route.class) && Modifier.isPublic(method.getModifiers())) {
                    routeMethods.add(method);
                }
            }
            if (routeMethods.isEmpty()) {
                continue;
            }
            Object resource = type.getConstructor(AppConfig.class).newInstance(config);
            resources.add(resource);
            for (Method method : routeMethods) {
                Route route = method.getAnnotation(Route.class);
                String path = config.contextRoot() + route.value();
                Endpoint previous = routes.put(path, new Endpoint(path, route.contentType(), lookup.unreflect(method).bindTo(resource)));
                if (previous != null) {
                    throw new IllegalStateException("two resource methods serve " + path);
                }
            }
        }
        System.out.println("pingperf: application deployed (" + classes.size() + " classes, routes " + routes.keySet() + ")");
        return new Deployment(config, routes, resources);
    }

    /** Loads every class in the archive this class came from, as a servlet container scans a WAR. */
    private static List<Class<?>> loadApplicationClasses() throws IOException, ClassNotFoundException, URISyntaxException {
        Path archive = Path.of(Deployment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ClassLoader loader = Deployment.class.getClassLoader();
        List<Class<?>> classes = new ArrayList<>();
        try (JarFile jar = new JarFile(archive.toFile())) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                if (!name.endsWith(".class") || name.equals("module-info.class")) {
                    continue;
                }
                String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
                classes.add(Class.forName(className, true, loader));
            }
        }
        return classes;
    }
}
