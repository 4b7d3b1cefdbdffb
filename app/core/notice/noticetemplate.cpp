#include "notice/noticetemplate.h"

#include <QCoreApplication>
#include <QFile>
#include <QHash>
#include <QList>
#include <QRegularExpression>
#include <QVariant>

#include <algorithm>
#include <optional>

namespace ft {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ft::NoticeTemplate", text);
}

// The notice's placeholders. Lists hold items with their own names, usable only
// inside {{#list}}…{{/list}}.
const QStringList &topLevelNames()
{
    static const QStringList names
            = {QStringLiteral("cluster_name"),      QStringLiteral("target_version"),
               QStringLiteral("window_start"),      QStringLiteral("window_end"),
               QStringLiteral("window_start_time"), QStringLiteral("window_end_time"),
               QStringLiteral("window_date"),       QStringLiteral("window_start_utc"),
               QStringLiteral("window_end_utc"),    QStringLiteral("window_duration"),
               QStringLiteral("time_zone"),         QStringLiteral("time_zone_abbrev"),
               QStringLiteral("utc_offset"),        QStringLiteral("sender"),
               QStringLiteral("sender_name"),       QStringLiteral("contact"),
               QStringLiteral("ends_next_day"),     QStringLiteral("has_contact"),
               QStringLiteral("has_impacts"),       QStringLiteral("has_slow_queries"),
               QStringLiteral("has_portal_down"),   QStringLiteral("has_webui_down"),
               QStringLiteral("has_nbi_down"),      QStringLiteral("has_flow_gaps"),
               QStringLiteral("slow_queries"),      QStringLiteral("portal_down"),
               QStringLiteral("webui_down"),        QStringLiteral("nbi_down"),
               QStringLiteral("flow_gaps"),         QStringLiteral("impacts")};
    return names;
}

const QHash<QString, QStringList> &listItemNames()
{
    static const QHash<QString, QStringList> lists = [] {
        const QStringList period = {QStringLiteral("start"),      QStringLiteral("end"),
                                    QStringLiteral("start_time"), QStringLiteral("end_time"),
                                    QStringLiteral("start_utc"),  QStringLiteral("end_utc"),
                                    QStringLiteral("when"),       QStringLiteral("duration"),
                                    QStringLiteral("nodes"),      QStringLiteral("node_count"),
                                    QStringLiteral("named")};
        QHash<QString, QStringList> result;
        result.insert(QStringLiteral("slow_queries"), period);
        result.insert(QStringLiteral("portal_down"), period);
        result.insert(QStringLiteral("webui_down"), period);
        result.insert(QStringLiteral("nbi_down"), period);
        // Every period of every kind in time order, each with a flag naming its kind.
        QStringList impact = period;
        impact << QStringLiteral("is_slow_queries") << QStringLiteral("is_portal_down")
               << QStringLiteral("is_webui_down") << QStringLiteral("is_nbi_down");
        result.insert(QStringLiteral("impacts"), impact);
        result.insert(QStringLiteral("flow_gaps"),
                      {QStringLiteral("node"), QStringLiteral("minutes"), QStringLiteral("length"),
                       QStringLiteral("start"),
                       QStringLiteral("start_time"), QStringLiteral("start_utc")});
        return result;
    }();
    return lists;
}

int editDistance(const QString &a, const QString &b)
{
    QList<int> previous(b.size() + 1);
    QList<int> current(b.size() + 1);
    for (int j = 0; j <= b.size(); ++j)
        previous[j] = j;
    for (int i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (int j = 1; j <= b.size(); ++j) {
            const int substitution = previous[j - 1] + (a.at(i - 1) == b.at(j - 1) ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

struct Tag
{
    enum Type { Variable, Section, Inverted, Close, Comment };
    Type type = Variable;
    QString name;
    bool escaped = true;
    qsizetype start = 0; // first '{'
    qsizetype end = 0; // after the last '}'
    int line = 0;
};

struct OpenSection
{
    QString name;
    int line;
    bool inverted;
};

// Reads every tag of a template and checks it, so that nothing unknown, unclosed or
// misplaced ever reaches the administrator's users as a hole in the notice.
class TemplateScanner
{
public:
    TemplateScanner(const QString &text, NoticeTemplate::Kind kind, const QString &origin)
        : m_text(text)
        , m_kind(kind)
        , m_origin(origin)
    { }

    Expected<QList<Tag>> scan()
    {
        static const QRegularExpression identifier(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
        QList<Tag> tags;
        qsizetype pos = 0;
        while (true) {
            const qsizetype open = m_text.indexOf(QLatin1String("{{"), pos);
            if (Result stray = checkLiteral(pos, open < 0 ? m_text.size() : open); !stray)
                return makeError(stray.error());
            if (open < 0)
                break;
            const int line = lineAt(open);
            const bool triple = m_text.mid(open, 3) == QLatin1String("{{{");
            const qsizetype contentStart = open + (triple ? 3 : 2);

            if (!triple && contentStart < m_text.size()
                && m_text.at(contentStart) == QLatin1Char('!')) {
                const qsizetype close = m_text.indexOf(QLatin1String("}}"), contentStart);
                if (close < 0)
                    return error(line, tr("the comment {{!… is never closed with }}."));
                tags.append({Tag::Comment, {}, false, open, close + 2, line});
                pos = close + 2;
                continue;
            }

            const QString closeToken = triple ? QStringLiteral("}}}") : QStringLiteral("}}");
            const qsizetype close = m_text.indexOf(closeToken, contentStart);
            const qsizetype endOfLine = m_text.indexOf(QLatin1Char('\n'), contentStart);
            const qsizetype nextOpen = m_text.indexOf(QLatin1String("{{"), contentStart);
            if (close < 0 || (endOfLine >= 0 && endOfLine < close)
                || (nextOpen >= 0 && nextOpen < close)) {
                const qsizetype snippetEnd = endOfLine < 0 ? m_text.size() : endOfLine;
                const QString snippet
                        = m_text.mid(open, std::min<qsizetype>(snippetEnd - open, 40));
                return error(line,
                             tr("the placeholder \"%1\" is not closed with %2.")
                                     .arg(snippet, closeToken));
            }
            const QString content = m_text.mid(contentStart, close - contentStart);
            const qsizetype after = close + closeToken.size();
            const QString tagText = m_text.mid(open, after - open);
            if (after < m_text.size() && m_text.at(after) == QLatin1Char('}'))
                return error(line, tr("%1} has one closing brace too many.").arg(tagText));

            QString name = content.trimmed();
            QChar sigil;
            if (!name.isEmpty() && QStringLiteral("#^/&>=").contains(name.at(0))) {
                sigil = name.at(0);
                name = name.mid(1).trimmed();
            }
            if (sigil == QLatin1Char('>'))
                return error(
                        line,
                        tr("%1: partials ({{>…}}) are not supported in notices.").arg(tagText));
            if (sigil == QLatin1Char('='))
                return error(line,
                             tr("%1: changing the {{ }} delimiters is not supported in notices.")
                                     .arg(tagText));
            const bool unescaped = triple || sigil == QLatin1Char('&');
            if (unescaped && m_kind == NoticeTemplate::Kind::Html) {
                return error(line,
                             tr("%1 would insert a value without HTML escaping; use {{%2}}.")
                                     .arg(tagText, name));
            }
            if (!identifier.match(name).hasMatch()) {
                return error(line,
                             tr("%1 is not a valid placeholder: a name is made of letters, "
                                "digits and _ and starts with a letter.")
                                     .arg(tagText));
            }

            Tag tag{Tag::Variable, name, !unescaped, open, after, line};
            if (sigil == QLatin1Char('/')) {
                if (m_sections.isEmpty())
                    return error(line,
                                 tr("%1 closes a section that was never opened.").arg(tagText));
                const OpenSection &top = m_sections.last();
                if (top.name != name) {
                    return error(
                            line,
                            tr("%1 does not match {{%2%3}}, opened on line %4.")
                                    .arg(tagText,
                                         top.inverted ? QStringLiteral("^") : QStringLiteral("#"),
                                         top.name)
                                    .arg(top.line));
                }
                m_sections.removeLast();
                tag.type = Tag::Close;
            } else {
                if (Result known = checkKnown(name, tagText, line); !known)
                    return makeError(known.error());
                if (sigil == QLatin1Char('#') || sigil == QLatin1Char('^')) {
                    m_sections.append({name, line, sigil == QLatin1Char('^')});
                    tag.type = sigil == QLatin1Char('#') ? Tag::Section : Tag::Inverted;
                }
            }
            tags.append(tag);
            pos = after;
        }
        if (!m_sections.isEmpty()) {
            const OpenSection &open = m_sections.last();
            return error(open.line,
                         tr("{{%1%2}} is never closed with {{/%2}}.")
                                 .arg(open.inverted ? QStringLiteral("^") : QStringLiteral("#"),
                                      open.name));
        }
        return tags;
    }

private:
    int lineAt(qsizetype position) const
    {
        return int(QStringView(m_text).left(position).count(QLatin1Char('\n'))) + 1;
    }

    Unexpected error(int line, const QString &what) const
    {
        return makeError(tr("%1, line %2: %3").arg(m_origin).arg(line).arg(what));
    }

    // Text between tags: a placeholder that lost a brace ({name}}) is a typo, not text.
    Result checkLiteral(qsizetype from, qsizetype to) const
    {
        static const QRegularExpression lostBrace(
                QStringLiteral("(?<!\\{)\\{\\s*[#^/&]?\\s*[A-Za-z_][A-Za-z0-9_]*\\s*\\}\\}"));
        const QRegularExpressionMatch match = lostBrace.match(m_text.mid(from, to - from));
        if (match.hasMatch()) {
            return error(
                    lineAt(from + match.capturedStart()),
                    tr("\"%1\" looks like a placeholder with a missing {.").arg(match.captured()));
        }
        return {};
    }

    Result checkKnown(const QString &name, const QString &tag, int line) const
    {
        if (topLevelNames().contains(name))
            return {};
        const auto &lists = listItemNames();
        for (const OpenSection &section : m_sections) {
            if (!section.inverted && lists.value(section.name).contains(name))
                return {};
        }
        for (auto it = lists.cbegin(); it != lists.cend(); ++it) {
            if (it.value().contains(name)) {
                return error(line,
                             tr("%1 can only be used inside a list such as {{#%2}}…{{/%2}}.")
                                     .arg(tag, it.key()));
            }
        }
        QString suggestion;
        int best = std::max<int>(2, int(name.size()) / 3) + 1;
        for (const QString &candidate : NoticeTemplate::placeholders()) {
            const QString bare = candidate.section(QLatin1Char('.'), -1);
            const int distance = editDistance(name, bare);
            if (distance < best) {
                best = distance;
                suggestion = bare;
            }
        }
        QString message = tr("unknown placeholder %1.").arg(tag);
        if (!suggestion.isEmpty())
            message += QLatin1Char(' ') + tr("Did you mean {{%1}}?").arg(suggestion);
        return error(line, message);
    }

    const QString &m_text;
    NoticeTemplate::Kind m_kind;
    QString m_origin;
    QList<OpenSection> m_sections;
};

struct Node
{
    enum Type { Text, Variable, Section, Inverted };
    Type type = Text;
    QString text; // Text: the text; otherwise the name
    bool escaped = true;
    QList<Node> children;
};

// Builds the tree. A section, inverted or comment tag that is alone on its line
// (only blanks around it) removes that line, blanks and line break included.
QList<Node> buildTree(const QString &text, const QList<Tag> &tags)
{
    QList<Node> root;
    QList<QList<Node> *> stack{&root};
    QList<Node> *current = &root;
    qsizetype textFrom = 0;
    const auto addText = [&](qsizetype from, qsizetype to) {
        if (to > from)
            current->append({Node::Text, text.mid(from, to - from), true, {}});
    };
    for (qsizetype i = 0; i < tags.size(); ++i) {
        const Tag &tag = tags.at(i);
        qsizetype cutFrom = tag.start;
        qsizetype cutTo = tag.end;
        if (tag.type != Tag::Variable) {
            const qsizetype lineStart
                    = tag.start == 0 ? 0 : text.lastIndexOf(QLatin1Char('\n'), tag.start - 1) + 1;
            qsizetype lineEnd = text.indexOf(QLatin1Char('\n'), tag.end);
            const qsizetype afterLine = lineEnd < 0 ? text.size() : lineEnd + 1;
            if (lineEnd < 0)
                lineEnd = text.size();
            const bool aloneBefore = (i == 0 || tags.at(i - 1).end <= lineStart)
                    && QStringView(text).mid(lineStart, tag.start - lineStart).trimmed().isEmpty();
            const bool aloneAfter = (i + 1 == tags.size() || tags.at(i + 1).start >= lineEnd)
                    && QStringView(text).mid(tag.end, lineEnd - tag.end).trimmed().isEmpty();
            if (aloneBefore && aloneAfter && lineStart >= textFrom) {
                cutFrom = lineStart;
                cutTo = afterLine;
            }
        }
        addText(textFrom, cutFrom);
        textFrom = cutTo;
        switch (tag.type) {
        case Tag::Comment:
            break;
        case Tag::Variable:
            current->append({Node::Variable, tag.name, tag.escaped, {}});
            break;
        case Tag::Section:
        case Tag::Inverted:
            current->append({tag.type == Tag::Section ? Node::Section : Node::Inverted,
                             tag.name,
                             true,
                             {}});
            current = &current->last().children;
            stack.append(current);
            break;
        case Tag::Close:
            stack.removeLast();
            current = stack.last();
            break;
        }
    }
    addText(textFrom, text.size());
    return root;
}

QString htmlEscaped(const QString &value)
{
    QString escaped = value.toHtmlEscaped(); // & < > "
    escaped.replace(QLatin1Char('\''), QLatin1String("&#39;"));
    return escaped;
}

bool isTruthy(const QVariant &value)
{
    switch (value.metaType().id()) {
    case QMetaType::Bool:
        return value.toBool();
    case QMetaType::QVariantList:
        return !value.toList().isEmpty();
    case QMetaType::QVariantMap:
        return true;
    default:
        return !value.toString().isEmpty();
    }
}

class Renderer
{
public:
    Renderer(bool html, const QString &origin)
        : m_html(html)
        , m_origin(origin)
    { }

    Result render(const QList<Node> &nodes, QList<QVariantMap> &scopes, QString &out) const
    {
        for (const Node &node : nodes) {
            if (node.type == Node::Text) {
                out += node.text;
                continue;
            }
            const std::optional<QVariant> value = lookup(node.text, scopes);
            if (!value) {
                return makeError(
                        tr("%1: the placeholder {{%2}} has no value.").arg(m_origin, node.text));
            }
            switch (node.type) {
            case Node::Variable:
                out += m_html && node.escaped ? htmlEscaped(value->toString()) : value->toString();
                break;
            case Node::Section:
                if (value->metaType().id() == QMetaType::QVariantList) {
                    for (const QVariant &item : value->toList()) {
                        scopes.append(item.toMap());
                        const Result result = render(node.children, scopes, out);
                        scopes.removeLast();
                        if (!result)
                            return result;
                    }
                } else if (isTruthy(*value)) {
                    if (Result result = render(node.children, scopes, out); !result)
                        return result;
                }
                break;
            case Node::Inverted:
                if (!isTruthy(*value)) {
                    if (Result result = render(node.children, scopes, out); !result)
                        return result;
                }
                break;
            case Node::Text:
                break;
            }
        }
        return {};
    }

private:
    static std::optional<QVariant> lookup(const QString &name, const QList<QVariantMap> &scopes)
    {
        for (auto it = scopes.crbegin(); it != scopes.crend(); ++it) {
            const auto found = it->constFind(name);
            if (found != it->constEnd())
                return found.value();
        }
        return std::nullopt;
    }

    bool m_html;
    QString m_origin;
};

} // namespace

struct NoticeTemplateTree
{
    QList<Node> nodes;
};

Expected<NoticeTemplate> NoticeTemplate::parse(const QString &text, Kind kind,
                                               const QString &origin)
{
    NoticeTemplate result;
    result.m_source = text;
    result.m_source.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    result.m_kind = kind;
    result.m_origin = origin;
    auto tags = TemplateScanner(result.m_source, kind, origin).scan();
    if (!tags)
        return makeError(tags.error());
    auto tree = std::make_shared<NoticeTemplateTree>();
    tree->nodes = buildTree(result.m_source, *tags);
    result.m_tree = std::move(tree);
    return result;
}

Expected<NoticeTemplate> NoticeTemplate::load(const QString &path, Kind kind)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(
                tr("Cannot read the notice template %1: %2").arg(path, file.errorString()));
    if (file.size() > 1024 * 1024)
        return makeError(tr("The notice template %1 is too large to be a template.").arg(path));
    const QByteArray bytes = file.readAll();
    const QString text = QString::fromUtf8(bytes);
    if (text.toUtf8() != bytes)
        return makeError(tr("The notice template %1 is not UTF-8 text.").arg(path));
    return parse(text, kind, path);
}

Expected<QString> NoticeTemplate::render(const QVariantMap &values) const
{
    if (!m_tree)
        return makeError(tr("The notice template is empty."));
    QList<QVariantMap> scopes{values};
    QString out;
    const Result result
            = Renderer(m_kind == Kind::Html, m_origin).render(m_tree->nodes, scopes, out);
    if (!result)
        return makeError(result.error());
    return out;
}

QStringList NoticeTemplate::placeholders()
{
    QStringList names = topLevelNames();
    const auto &lists = listItemNames();
    for (auto it = lists.cbegin(); it != lists.cend(); ++it) {
        for (const QString &item : it.value())
            names << it.key() + QLatin1Char('.') + item;
    }
    std::sort(names.begin(), names.end());
    return names;
}

Expected<NoticeTemplates> NoticeTemplates::load(const QString &folder)
{
    const QString base = folder.isEmpty() ? QStringLiteral(":/ft/templates") : folder;
    auto subject = NoticeTemplate::load(base + QStringLiteral("/notice-subject.txt"),
                                        NoticeTemplate::Kind::PlainText);
    if (!subject)
        return makeError(subject.error());
    auto text = NoticeTemplate::load(base + QStringLiteral("/notice.txt"),
                                     NoticeTemplate::Kind::PlainText);
    if (!text)
        return makeError(text.error());
    auto html = NoticeTemplate::load(base + QStringLiteral("/notice.html"),
                                     NoticeTemplate::Kind::Html);
    if (!html)
        return makeError(html.error());
    return NoticeTemplates{*subject, *text, *html};
}

} // namespace ft
