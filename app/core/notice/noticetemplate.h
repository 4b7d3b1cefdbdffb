#pragma once

#include "model/expected.h"

#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <memory>

namespace ft {

struct NoticeTemplateTree; // the parsed template (noticetemplate.cpp)

// A notice template in the Mustache syntax, strict subset: {{name}}, sections
// {{#list}}…{{/list}} and {{#flag}}…{{/flag}}, inverted {{^flag}}…{{/flag}}, comments
// {{! …}}; a section or comment tag alone on its line takes the line with it, as the
// Mustache spec says. Unlike Mustache, which renders an unknown name as nothing, every
// tag is checked against the notice's placeholders when the template is parsed: a
// typo ({{windw_start}}), an unclosed tag or section, or a name used outside its list
// is an error naming the tag and its line. Partials and delimiter changes are refused;
// HTML templates refuse unescaped tags ({{{x}}}, {{&x}}): every value inserted into
// HTML is escaped.
class NoticeTemplate
{
public:
    enum class Kind { PlainText, Html };

    static Expected<NoticeTemplate> parse(const QString &text, Kind kind, const QString &origin);
    static Expected<NoticeTemplate> load(const QString &path, Kind kind);

    // values: QString (or anything QVariant converts to a string), bool for flags and
    // QVariantList of QVariantMap for lists, matching placeholders().
    Expected<QString> render(const QVariantMap &values) const;

    QString source() const { return m_source; }
    QString origin() const { return m_origin; }
    Kind kind() const { return m_kind; }

    // The placeholders a template may use, for help texts: top-level names, and each
    // list's item names as "list.item".
    static QStringList placeholders();

private:
    QString m_source;
    std::shared_ptr<const NoticeTemplateTree> m_tree;
    QString m_origin; // "notice.txt", or a path: error sentences name it
    Kind m_kind = Kind::PlainText;
};

// The three editable templates of the notice: its subject line, plain-text body and
// HTML body (resources/templates/notice-subject.txt, notice.txt, notice.html).
struct NoticeTemplates
{
    NoticeTemplate subject;
    NoticeTemplate text;
    NoticeTemplate html;

    // Loads the three files from a folder; an empty folder means the templates built
    // into the application (":/ft/templates").
    static Expected<NoticeTemplates> load(const QString &folder = {});
};

} // namespace ft
