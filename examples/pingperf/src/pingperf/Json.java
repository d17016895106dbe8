package pingperf;

/** Writes flat JSON objects; the application needs no more than that. */
final class Json {
    private Json() {}

    static String object(Object... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("Json.object needs key/value pairs, got " + keysAndValues.length + " arguments");
        }
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (i > 0) {
                out.append(',');
            }
            string(out, String.valueOf(keysAndValues[i]));
            out.append(':');
            Object value = keysAndValues[i + 1];
            if (value instanceof Number || value instanceof Boolean) {
                out.append(value);
            } else {
                string(out, String.valueOf(value));
            }
        }
        return out.append('}').toString();
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
