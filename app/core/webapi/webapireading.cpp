#include "webapi/webapireading.h"

#include "webapi/webapiinfojob.h"

#include <QCoreApplication>
#include <QSet>

namespace ft {

VersionReading webApiReading(const WebApiInfoJob &job)
{
    VersionReading reading;
    reading.source = QStringLiteral("webapi");
    const WebApiVersion &found = job.version();
    reading.detail = found.key.isEmpty()
                         ? QStringLiteral("GET /flowtraq/api/v3/info")
                         : QCoreApplication::translate("ft::WebApi", "GET /flowtraq/api/v3/info, key \"%1\"%2")
                               .arg(found.key, found.keyConfigured ? QCoreApplication::translate("ft::WebApi", " (configured)")
                                                                   : QCoreApplication::translate("ft::WebApi", " (found)"));
    if (job.error() == WebApiInfoJob::NoError)
        reading.version = found.version;
    else
        reading.error = job.errorString();
    return reading;
}

void applyVersionReading(ComponentState &state, const VersionReading &reading)
{
    state.readings.erase(std::remove_if(state.readings.begin(), state.readings.end(),
                                        [&reading](const VersionReading &r) { return r.source == reading.source; }),
                         state.readings.end());
    state.readings.append(reading);
    if (!state.installed && !reading.version.isEmpty()) {
        if (auto version = Version::parse(reading.version)) {
            state.installed = true;
            state.version = *version;
            state.source = reading.source;
        }
    }
    QSet<QString> versions;
    for (const VersionReading &r : std::as_const(state.readings)) {
        if (auto version = Version::parse(r.version))
            versions.insert(version->toString());
    }
    state.disagreement = versions.size() > 1;
}

} // namespace ft
