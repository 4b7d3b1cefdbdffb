#pragma once

#include <QString>

#include <utility>
#include <variant>

namespace ft {

// A value or an error sentence, in the spirit of std::expected<T, QString> (C++23).
// Errors are plain sentences meant for the administrator, never codes.
struct Unexpected
{
    QString message;
};

inline Unexpected makeError(QString message)
{
    return Unexpected{std::move(message)};
}

template<typename T>
class [[nodiscard]] Expected
{
public:
    Expected(T value) : m_data(std::in_place_index<0>, std::move(value)) {}
    Expected(Unexpected error) : m_data(std::in_place_index<1>, std::move(error.message)) {}

    bool has_value() const { return m_data.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T &value() & { return std::get<0>(m_data); }
    const T &value() const & { return std::get<0>(m_data); }
    T &&value() && { return std::get<0>(std::move(m_data)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    // Empty when there is a value, so building a message never throws.
    const QString &error() const
    {
        static const QString none;
        return has_value() ? none : std::get<1>(m_data);
    }

    template<typename U>
    T value_or(U &&fallback) const
    {
        return has_value() ? value() : T(std::forward<U>(fallback));
    }

private:
    std::variant<T, QString> m_data;
};

// Success-or-error for operations without a result.
template<>
class [[nodiscard]] Expected<void>
{
public:
    Expected() = default;
    Expected(Unexpected error) : m_error(std::move(error.message)), m_failed(true) {}

    bool has_value() const { return !m_failed; }
    explicit operator bool() const { return has_value(); }
    const QString &error() const { return m_error; }

private:
    QString m_error;
    bool m_failed = false;
};

using Result = Expected<void>;

} // namespace ft
