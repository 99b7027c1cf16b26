// bench_quality's judge for Java: javac's own parser (JavacTask.parse: syntax
// only, no attribution, no other files), run by the JDK's source launcher
// (`java JavaJudge.java`) as a long-lived helper that bench/judge.cpp starts
// once. It writes "ready javac <version> parser", then reads sources framed as
// "<byte count>\n<bytes>" on stdin and answers each with one line: "ok", or
// "error <line>:<column>: <first error>".
import com.sun.source.util.JavacTask;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

public class JavaJudge {
  static final class Source extends SimpleJavaFileObject {
    final String text;
    Source(String text) {
      super(URI.create("string:///Judged.java"), JavaFileObject.Kind.SOURCE);
      this.text = text;
    }
    @Override public CharSequence getCharContent(boolean ignoreEncodingErrors) { return text; }
  }

  static String verdict(JavaCompiler compiler, String text) throws IOException {
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    JavacTask task = (JavacTask) compiler.getTask(null, null, diagnostics, List.of("-proc:none", "-Xlint:none"),
                                                  null, List.of(new Source(text)));
    task.parse();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() != Diagnostic.Kind.ERROR) continue;
      String message = d.getMessage(null).replaceAll("[\\r\\n]+", " ");
      return "error " + d.getLineNumber() + ":" + d.getColumnNumber() + ": " + message;
    }
    return "ok";
  }

  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != '\n';) {
      if (c < 0) return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
      line.write(c);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  public static void main(String[] args) throws IOException {
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    if (compiler == null) {
      System.err.println("JavaJudge: no system Java compiler (a JDK, not a JRE, is needed: default-jdk-headless)");
      System.exit(3);
    }
    System.out.println("ready javac " + System.getProperty("java.version") + " parser (JavacTask.parse)");
    System.out.flush();
    InputStream in = new BufferedInputStream(System.in);
    for (String header; (header = readLine(in)) != null;) {
      byte[] source = in.readNBytes(Integer.parseInt(header.trim()));
      System.out.println(verdict(compiler, new String(source, StandardCharsets.UTF_8)));
      System.out.flush();
    }
  }
}
