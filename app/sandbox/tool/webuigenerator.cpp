#include "webuigenerator.h"

#include <QSet>

#include <algorithm>
#include <array>
#include <random>

namespace ft::sandbox {

namespace {

// FNV-1a: stable across runs and platforms (qHash is seeded per process).
quint64 stableHash(const QByteArray &bytes)
{
    quint64 hash = 1469598103934665603ULL;
    for (char c : bytes) {
        hash ^= quint8(c);
        hash *= 1099511628211ULL;
    }
    return hash;
}

constexpr std::array words{
    "dashboard", "flows",    "hosts",     "alerts",   "reports",  "policies", "sessions",
    "traffic",   "ports",    "protocols", "geo",      "asn",      "interfaces", "exporters",
    "users",     "audit",    "settings",  "cluster",  "license",  "search",   "timeline",
    "topn",      "matrix",   "anomaly",   "baseline", "netflow",  "ipfix",    "sflow",
    "bandwidth", "latency",  "threats",   "forensics", "replay",  "filters",  "groups",
    "workers",   "portal",   "history",   "export",   "import",   "schedule", "widgets",
    "charts",    "tables",   "legend",    "tooltip",  "sidebar",  "toolbar",  "modal",
    "wizard",    "profile",  "session",   "query",    "results",  "summary",  "details"};

const char *word(std::mt19937_64 &random)
{
    return words[random() % words.size()];
}

QByteArray capitalized(const char *text)
{
    QByteArray out(text);
    out[0] = char(toupper(out[0]));
    return out;
}

enum class Kind { Html, Js, Css, Json, Svg, Png, Other };

Kind kindOf(const QString &path)
{
    if (path.endsWith(QLatin1String(".html")))
        return Kind::Html;
    if (path.endsWith(QLatin1String(".js")))
        return Kind::Js;
    if (path.endsWith(QLatin1String(".css")))
        return Kind::Css;
    if (path.endsWith(QLatin1String(".json")))
        return Kind::Json;
    if (path.endsWith(QLatin1String(".svg")))
        return Kind::Svg;
    if (path.endsWith(QLatin1String(".png")))
        return Kind::Png;
    return Kind::Other;
}

// One "unit" of text: a few lines that belong together (a function, a rule, a panel).
QByteArray textUnit(Kind kind, std::mt19937_64 &random, int index)
{
    const QByteArray a = word(random), b = word(random), c = word(random);
    const QByteArray n = QByteArray::number(int(random() % 1000));
    switch (kind) {
    case Kind::Js:
        return "// " + capitalized(a) + " " + b + ": keeps the " + c + " view in step.\n"
               "function " + a + capitalized(b) + QByteArray::number(index) + "(view, range) {\n"
               "    var total = view.sum('" + c + "') * " + n + ";\n"
               "    if (range.end - range.start > " + n + ") {\n"
               "        total = total / (range.end - range.start);\n"
               "    }\n"
               "    return ft.render('" + a + "-" + b + "', total);\n"
               "}\n\n";
    case Kind::Css:
        return "." + a + "-" + b + "-" + QByteArray::number(index) + " {\n"
               "  color: #" + QByteArray::number(quint32(random() % 0xffffff), 16).rightJustified(6, '0') + ";\n"
               "  margin: " + QByteArray::number(int(random() % 24)) + "px "
               + QByteArray::number(int(random() % 24)) + "px;\n"
               "  font-weight: " + (random() % 2 ? "bold" : "normal") + ";\n"
               "}\n\n";
    case Kind::Html:
        return "    <div class=\"panel " + a + "-" + b + "\" id=\"" + c + "-" + QByteArray::number(index) + "\">\n"
               "      <h2>" + capitalized(a) + " " + b + "</h2>\n"
               "      <p>Shows the " + c + " of the selected " + b + " over the chosen time range.</p>\n"
               "      <button data-action=\"" + a + "\">" + capitalized(c) + "</button>\n"
               "    </div>\n";
    case Kind::Json:
        return "  \"" + a + "_" + b + "_" + QByteArray::number(index) + "\": \"" + capitalized(c) + " " + n + "\",\n";
    case Kind::Svg:
        return "  <path d=\"M" + n + " " + QByteArray::number(int(random() % 24)) + " L"
               + QByteArray::number(int(random() % 24)) + " " + QByteArray::number(int(random() % 24))
               + " Z\" fill=\"#" + QByteArray::number(quint32(random() % 0xffffff), 16).rightJustified(6, '0') + "\"/>\n";
    case Kind::Png:
    case Kind::Other:
        break;
    }
    return "# " + a + " " + b + " " + c + "\n";
}

QByteArray header(Kind kind, const QString &path)
{
    const QByteArray name = path.toUtf8();
    switch (kind) {
    case Kind::Html:
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n"
               "  <title>FlowTraq - " + name + "</title>\n"
               "  <link rel=\"stylesheet\" href=\"/flowtraq/css/site.css\">\n</head>\n<body>\n";
    case Kind::Js:
        return "/* FlowTraq Web UI: " + name + " */\n'use strict';\n\n";
    case Kind::Css:
        return "/* FlowTraq Web UI: " + name + " */\n\n";
    case Kind::Json:
        return "{\n";
    case Kind::Svg:
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 24 24\">\n";
    default:
        return {};
    }
}

QByteArray footer(Kind kind)
{
    switch (kind) {
    case Kind::Html:
        return "  <script src=\"/flowtraq/js/app.js\"></script>\n</body>\n</html>\n";
    case Kind::Json:
        return "  \"generated\": true\n}\n";
    case Kind::Svg:
        return "</svg>\n";
    default:
        return {};
    }
}

// Target size by kind: a spread like a real single-page application's assets.
qint64 targetSize(Kind kind, const QString &path, std::mt19937_64 &random)
{
    if (path.contains(QLatin1String("vendor/")))
        return 60000 + qint64(random() % 90000);
    switch (kind) {
    case Kind::Html: return 1500 + qint64(random() % 14000);
    case Kind::Js: return 3000 + qint64(random() % 40000);
    case Kind::Css: return 1000 + qint64(random() % 16000);
    case Kind::Json: return 300 + qint64(random() % 6000);
    case Kind::Svg: return 300 + qint64(random() % 3000);
    case Kind::Png: return 500 + qint64(random() % 30000);
    case Kind::Other: return 200 + qint64(random() % 2000);
    }
    return 1000;
}

} // namespace

WebUiGenerator::WebUiGenerator(QString version, int fileCount)
    : m_version(std::move(version)), m_fileCount(std::max(fileCount, 20))
{}

QStringList WebUiGenerator::paths() const
{
    QStringList fixed{
        QStringLiteral("index.html"),
        QStringLiteral("login.html"),
        QStringLiteral("js/app.js"),
        QStringLiteral("js/whatsnew.js"),
        QStringLiteral("js/vendor/jquery.min.js"),
        QStringLiteral("js/vendor/d3.min.js"),
        QStringLiteral("css/site.css"),
        QStringLiteral("css/theme-dark.css"),
        QStringLiteral("img/logo.png"),
        QStringLiteral("img/favicon.png"),
        QStringLiteral("config/defaults.json"),
        QStringLiteral("help/Quick Start Guide.html"),
        QStringLiteral("help/Überblick.html"),
        // One file per version: an upgrade adds one and removes the old one.
        QStringLiteral("help/release-notes-%1.html").arg(m_version),
    };
    QSet<QString> seen(fixed.cbegin(), fixed.cend());
    QStringList all = fixed;
    static const std::array<std::pair<const char *, const char *>, 8> folders{{
        {"views/", ".html"}, {"js/modules/", ".js"}, {"css/modules/", ".css"}, {"img/icons/", ".svg"},
        {"img/charts/", ".png"}, {"i18n/", ".json"}, {"templates/", ".html"}, {"js/widgets/", ".js"},
    }};
    std::mt19937_64 random(stableHash("flowtraq-webui-tree"));
    for (int i = 0; all.size() < m_fileCount; ++i) {
        const auto &[folder, suffix] = folders[size_t(i) % folders.size()];
        QString name = QString::fromLatin1(folder) + QString::fromLatin1(word(random))
                       + QLatin1Char('-') + QString::fromLatin1(word(random));
        if (seen.contains(name + QString::fromLatin1(suffix)))
            name += QLatin1Char('-') + QString::number(i);
        name += QString::fromLatin1(suffix);
        seen.insert(name);
        all.append(name);
    }
    std::sort(all.begin(), all.end());
    return all;
}

QByteArray WebUiGenerator::content(const QString &path) const
{
    const Kind kind = kindOf(path);
    std::mt19937_64 random(stableHash(path.toUtf8()));
    const qint64 size = targetSize(kind, path, random);
    // Which parts of this file this version changed: ~1 in 10 files, a few units each.
    const quint64 versionSeed = stableHash(path.toUtf8() + '@' + m_version.toUtf8());
    const bool touched = versionSeed % 10 == 0;

    if (kind == Kind::Png) {
        QByteArray bytes("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
        bytes.reserve(size);
        std::mt19937_64 pixels(touched ? versionSeed : random());
        while (bytes.size() < size) {
            const quint64 value = pixels();
            bytes.append(reinterpret_cast<const char *>(&value), sizeof value);
        }
        bytes.truncate(size);
        return bytes;
    }

    QByteArray text = header(kind, path);
    if (path == QLatin1String("index.html") || path == QLatin1String("js/app.js")
        || path == QLatin1String("js/whatsnew.js") || path.startsWith(QLatin1String("help/release-notes"))) {
        const QByteArray banner = "FlowTraq Web UI " + m_version.toUtf8();
        text += kind == Kind::Html ? "  <!-- " + banner + " -->\n" : "// " + banner + "\n";
    }
    std::mt19937_64 edits(versionSeed);
    for (int index = 0; text.size() < size; ++index) {
        QByteArray unit = textUnit(kind, random, index);
        // A touched file gets a few of its units rewritten for this version.
        if (touched && edits() % 9 == 0)
            unit = textUnit(kind, edits, index);
        text += unit;
    }
    text += footer(kind);
    return text;
}

} // namespace ft::sandbox
