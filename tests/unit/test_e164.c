/* test_e164.c - numbers as signalled -> E.164 under a dialling plan. */
#include "check.h"
#include "e164.h"

static struct e164_rules romania(void)
{
    struct e164_rules r = {"40", "0", "00"};
    return r;
}

static const char *norm(const struct e164_rules *r, const char *raw)
{
    static char out[E164_MAX];
    e164_normalize(r, raw, strlen(raw), out, sizeof(out));
    return out;
}

static void every_written_form_gives_one_number(void)
{
    struct e164_rules r = romania();
    CHECK_EQ_STR(norm(&r, "+40 21 123 4567"), "+40211234567");
    CHECK_EQ_STR(norm(&r, "0040211234567"), "+40211234567");
    CHECK_EQ_STR(norm(&r, "021-123.4567"), "+40211234567");
    CHECK_EQ_STR(norm(&r, "(021) 123 4567"), "+40211234567");
    CHECK_EQ_STR(norm(&r, "tel:+40-21-123-4567"), "+40211234567");
    CHECK_EQ_STR(norm(&r, "+40211234567;user=phone"), "+40211234567");
    CHECK_EQ_STR(norm(&r, "0049301234567"), "+49301234567"); /* foreign, international prefix */
}

static void phone_context_makes_a_local_number_global(void)
{
    struct e164_rules none;
    e164_rules_default(&none);
    CHECK_EQ_STR(norm(&none, "7042;phone-context=+1-212-555"), "+12125557042");
    CHECK_EQ_STR(norm(&none, "7042;Phone-Context=+1212555"), "+12125557042");
    /* a domain context says nothing about the country */
    CHECK_EQ_STR(norm(&none, "7042;phone-context=example.com"), "");
}

static void what_is_not_a_number_stays_empty(void)
{
    struct e164_rules r = romania();
    CHECK_EQ_STR(norm(&r, "alice"), "");
    CHECK_EQ_STR(norm(&r, "*100#"), "");
    CHECK_EQ_STR(norm(&r, "1001"), ""); /* extension: no prefix, no rule */
    CHECK_EQ_STR(norm(&r, "+12"), "");  /* too short */
    CHECK_EQ_STR(norm(&r, "+1234567890123456"), ""); /* 16 digits */
    CHECK_EQ_STR(norm(&r, "+0123456"), "");
    CHECK_EQ_STR(norm(&r, ""), "");
    CHECK_EQ_STR(norm(&r, "0"), "");
    CHECK_EQ_STR(norm(&r, "00"), "");
    CHECK_EQ_STR(norm(&r, "000000000000000000000000000000000000000000"), "");
    CHECK_EQ_STR(norm(&r, "+4021;phone-context=+40"), "+4021"); /* global: context ignored */
}

static void without_rules_only_global_numbers_normalise(void)
{
    struct e164_rules none;
    e164_rules_default(&none);
    CHECK_EQ_STR(norm(&none, "+44 20 7946 0000"), "+442079460000");
    CHECK_EQ_STR(norm(&none, "02079460000"), "");
    CHECK_EQ_STR(norm(&none, "00442079460000"), "");
}

static void short_output_buffer_is_refused(void)
{
    struct e164_rules r = romania();
    char out[8] = "x";
    CHECK_EQ_INT(e164_normalize(&r, "+40211234567", 12, out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "");
    char ok[E164_MAX];
    CHECK_EQ_INT(e164_normalize(&r, "+40211234567", 12, ok, sizeof(ok)), 12);
}

int main(void)
{
    RUN(every_written_form_gives_one_number);
    RUN(phone_context_makes_a_local_number_global);
    RUN(what_is_not_a_number_stays_empty);
    RUN(without_rules_only_global_numbers_normalise);
    RUN(short_output_buffer_is_refused);
    return check_summary();
}
