// The `stories` corpus: a hand-written grammar of simple children's stories.
//
// A story is an introduction (a child, a friend who is another child or a named pet, a colored
// object), one small plot and an ending. Sentences are templates: "[a|b]" picks one
// alternative (nesting allowed), "{key}" inserts a word bound for the whole story, so the
// names and objects introduced at the start come back later (a pattern a model can only
// predict by copying from its context: an induction head).
#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/train/corpus.h"
#include "core/train/rng.h"

namespace ps {

namespace {

using Words = std::vector<std::string>;

const Words kGirls = {"Lily", "Mia",  "Emma", "Anna", "Sara",  "Lucy", "Ella",
                      "Zoe",  "Ruby", "Rosa", "Nina", "Amy",   "Kate", "Maya",
                      "Hana", "Lena", "Ivy",  "Jane", "Molly", "Daisy"};
const Words kBoys = {"Tom",  "Ben",  "Max",  "Sam", "Leo", "Jack", "Tim",  "Noah",  "Finn", "Omar",
                     "Ravi", "Luke", "Hugo", "Kai", "Eli", "Jake", "Theo", "Oscar", "Milo", "Adam"};
const Words kPetNames = {"Spot",   "Buddy", "Fluffy", "Coco",   "Pip",    "Sunny",
                         "Button", "Bella", "Rocky",  "Pepper", "Ginger", "Snowy"};
const Words kPets = {"dog", "cat", "rabbit", "puppy", "kitten", "duck", "turtle", "parrot"};
const Words kAnimals = {"bird",  "frog", "duck",     "bear",     "fox",   "owl",
                        "mouse", "deer", "lamb",     "squirrel", "puppy", "kitten",
                        "pig",   "goat", "hedgehog", "butterfly"};
const Words kObjects = {"ball", "kite",   "doll",    "hat",      "book",   "box",     "car",
                        "boat", "drum",   "cup",     "bike",     "train",  "balloon", "shell",
                        "key",  "ribbon", "blanket", "umbrella", "basket", "robot",   "scarf"};
const Words kColors = {"red",    "blue",  "green", "yellow", "pink",   "purple",
                       "orange", "white", "black", "brown",  "golden", "silver"};
const Words kPlaces = {"park",       "forest", "beach",  "garden",  "lake",   "farm",
                       "school",     "market", "zoo",    "river",   "hill",   "library",
                       "playground", "pond",   "meadow", "village", "castle", "field"};
const Words kFoods = {"apple", "cake",   "cookie", "sandwich", "banana",
                      "pie",   "carrot", "orange", "muffin",   "pear"};
const Words kFamily = {"mom", "dad", "grandma", "grandpa"};
const Words kGoals = {"climb the big tree", "ride a bike",        "fly a kite",
                      "swim in the lake",   "build a tall tower", "jump over the fence",
                      "whistle a song",     "tie {his} shoes"};

// ----- the grammar: each plot is a list of sentence templates -----

const Words kIntro = {
    "[Once upon a time|Long ago], there was a [little|kind|happy|brave|curious] {kid} named {H}.",
    "There was once a [little|kind|happy|brave|curious] {kid} called {H}.",
    "{H} was a [little|kind|happy|brave|curious] {kid} who lived [in a small house|near a big "
    "forest|by the sea|on a farm|in a busy town].",
};
const Words kLikes = {
    "{He} loved to [play outside|read books|sing songs|draw pictures|run and jump|help {his} "
    "{family}].",
    "Every day, {he} [played in the garden|looked at the sky|went for a walk|sang a little "
    "song].",
    "",
};
const Words kPetIntro = {
    "{H} had a [little|fluffy|funny|small] {pet} named {F}.",
    "{H} had a pet {pet}. Its name was {F}.",
};
const Words kFriendIntro = {
    "{H} had a friend named {F}.",
    "{H}'s best friend was a {fkid} named {F}.",
};
const Words kObjectIntro = {
    "{H} had a {color} {obj}. {He} loved it very much.",
    "{H}'s {family} gave {him} a [new|shiny|big|little] {color} {obj}.",
    "{H} liked to play with {his} {color} {obj}.",
};

const std::vector<Words> kPlots = {
    // The lost object.
    {"[One day|One morning|One sunny day], {H} and {F} went to the {place}.",
     "They played with the {color} {obj} [all day|for a long time|until lunch].",
     "[But then|Then|Suddenly,] the {obj} was gone!", "{H} felt [sad|worried|scared].",
     "\"Where is my {obj}?\" [asked|cried] {H}.",
     "\"Don't worry, {H}. I will help you,\" said {F}.",
     "They looked [under the trees|behind the rocks|in the tall grass|near the water].",
     "At last, {F} found the {color} {obj} [under a bush|next to a big rock|in the grass|by "
     "the gate].",
     "{H} was [so|very] happy.", "\"Thank you, {F}!\" said {H}."},
    // The lost animal.
    {"[One day|One morning|One sunny day], {H} and {F} went to the {place}.",
     "There, they saw a [little|small|young] {animal}.",
     "The {animal} looked [sad|scared|tired|lonely].", "\"What is wrong?\" asked {H}.",
     "\"I am lost. I cannot find my [mom|home|family],\" said the {animal}.",
     "{H} [wanted to help.|said, \"We will help you.\"]",
     "{H} and {F} walked with the {animal} to the {place2}.",
     "There they found the {animal}'s [mom|home|family].",
     "The {animal} was [very happy|so glad]. \"Thank you!\" it said.",
     "{H} and {F} [smiled|waved goodbye]."},
    // Sharing food.
    {"[One day|After school|One afternoon], {H} took a {food} to the {place}.",
     "{F} was there too.", "{F} looked [hungry|sad] and did not have any food.",
     "{H} thought for a moment.", "Then {he} gave half of the {food} to {F}.",
     "{F} smiled. \"Thank you, {H},\" said {F}.",
     "They sat [under a tree|on the grass|by the water] and ate the {food} together.",
     "{H} felt [happy|warm|proud] inside."},
    // The rain.
    {"[One morning|One day], {H} and {F} went to the {place} to play with the {color} {obj}.",
     "The sun was [bright|warm] and the sky was blue.", "Then the sky turned [gray|dark].",
     "It started to rain!", "{H} and {F} ran home [fast|as fast as they could].",
     "They were [wet|cold] but [happy|laughing].",
     "{H}'s {family} made them [warm soup|hot milk|a big cake].",
     "They sat by the window and watched the rain."},
    // Trying hard.
    {"{H} wanted to {goal}.", "{He} tried, but {he} [fell down|could not do it].",
     "{H} felt [sad|angry|tired].", "{F} said, \"Try again, {H}! You can do it.\"",
     "So {H} tried again and again.", "At last, {he} did it!",
     "{H} was very proud, and {F} [cheered|clapped|jumped up and down]."},
    // A new friend.
    {"[One day|One morning|On a sunny day], {H} went to the {place}.",
     "There {he} met a {nkid} named {N}.", "{N} was [shy|new in town|all alone].",
     "\"Hi, I am {H}. Do you want to play?\" asked {H}.", "{N} smiled and said, \"Yes, I do!\"",
     "{H} and {N} played with the {color} {obj} [all afternoon|until the sun went down].",
     "From that day on, {H} and {N} were best friends."},
    // A gift.
    {"It was {H}'s {family}'s birthday.", "{H} wanted to make a gift.",
     "{He} [drew a picture of a {color} {animal}|picked some {color} flowers|made a card with a "
     "{color} heart].",
     "{F} helped {him}.",
     "When {his} {family} saw the gift, [they smiled|they laughed and hugged {H}].",
     "\"I love it, {H}!\" [said {his} {family}|they said]."},
};

const Words kEndings = {
    "From that day on, {H} and {F} were the best of friends.",
    "That night, {H} went to bed with a big smile.",
    "It was the best day ever.",
    "{H} learned that [friends help each other|it is good to share|you should never give "
    "up|being kind is important].",
    "{H} hugged {F}, and they went home together.",
};

class StoryWriter {
  public:
    explicit StoryWriter(Rng& rng) : rng_(rng) {}

    std::string write() {
        const bool girl = rng_.below(2) == 0;
        bind_person("", pick(girl ? kGirls : kBoys), girl);
        b_["H"] = b_["name"];
        const bool pet = rng_.below(2) == 0;
        if (pet) {
            b_["F"] = pick(kPetNames);
            b_["pet"] = pick(kPets);
        } else {
            const bool fgirl = rng_.below(2) == 0;
            b_["F"] = pick_other(fgirl ? kGirls : kBoys, {b_["H"]});
            b_["fkid"] = fgirl ? "girl" : "boy";
        }
        const bool ngirl = rng_.below(2) == 0;
        b_["N"] = pick_other(ngirl ? kGirls : kBoys, {b_["H"], b_["F"]});
        b_["nkid"] = ngirl ? "girl" : "boy";
        b_["color"] = pick(kColors);
        b_["obj"] = pick(kObjects);
        b_["place"] = pick(kPlaces);
        b_["place2"] = pick_other(kPlaces, {b_["place"]});
        b_["animal"] = pick(kAnimals);
        b_["food"] = pick(kFoods);
        b_["family"] = pick(kFamily);
        b_["goal"] = expand(pick(kGoals));

        say(pick(kIntro));
        say(pick(kLikes));
        say(pick(pet ? kPetIntro : kFriendIntro));
        const size_t plot = static_cast<size_t>(rng_.below(static_cast<int>(kPlots.size())));
        if (plot == 0 || plot == 3 || plot == 5) say(pick(kObjectIntro));  // they use the object
        for (const std::string& s : kPlots[plot]) say(s);
        // The new-friend plot ends with its own "From that day on": end it otherwise.
        say(plot == 5 ? kEndings[static_cast<size_t>(1 + rng_.below(3))] : pick(kEndings));
        return text_;
    }

  private:
    const std::string& pick(const Words& list) {
        return list[static_cast<size_t>(rng_.below(static_cast<int>(list.size())))];
    }
    // A word from `list` other than those in `taken` (lists are longer than `taken`).
    std::string pick_other(const Words& list, const Words& taken) {
        for (;;) {
            const std::string& w = pick(list);
            bool used = false;
            for (const std::string& t : taken) used = used || t == w;
            if (!used) return w;
        }
    }
    void bind_person(const std::string& prefix, const std::string& name, bool girl) {
        b_[prefix + "name"] = name;
        b_[prefix + "kid"] = girl ? "girl" : "boy";
        b_[prefix + "he"] = girl ? "she" : "he";
        b_[prefix + "He"] = girl ? "She" : "He";
        b_[prefix + "his"] = girl ? "her" : "his";
        b_[prefix + "him"] = girl ? "her" : "him";
    }

    // Expands "[a|b]" choices and "{key}" bindings.
    std::string expand(std::string_view t) {
        std::string out;
        for (size_t i = 0; i < t.size();) {
            if (t[i] == '[') {
                // Split at top-level '|' up to the matching ']'.
                std::vector<std::string_view> options;
                int depth = 0;
                size_t start = i + 1, j = i;
                for (; j < t.size(); ++j) {
                    if (t[j] == '[') ++depth;
                    if (t[j] == ']' && --depth == 0) break;
                    if (t[j] == '|' && depth == 1) {
                        options.push_back(t.substr(start, j - start));
                        start = j + 1;
                    }
                }
                if (j == t.size())
                    throw Error("stories grammar: unclosed '[' in " + std::string(t));
                options.push_back(t.substr(start, j - start));
                out += expand(
                    options[static_cast<size_t>(rng_.below(static_cast<int>(options.size())))]);
                i = j + 1;
            } else if (t[i] == '{') {
                const size_t j = t.find('}', i);
                const std::string key(t.substr(i + 1, j - i - 1));
                auto it = b_.find(key);
                if (j == std::string_view::npos || it == b_.end())
                    throw Error("stories grammar: unknown key {" + key + "}");
                out += it->second;
                i = j + 1;
            } else {
                out += t[i++];
            }
        }
        return out;
    }

    // "a" before a vowel becomes "an" (the word lists avoid "a unicorn"-like exceptions).
    static void fix_articles(std::string& s) {
        for (size_t i = 0; i + 2 < s.size(); ++i) {
            const bool word_a = (s[i] == 'a' || s[i] == 'A') && s[i + 1] == ' ' &&
                                (i == 0 || s[i - 1] == ' ' || s[i - 1] == '"');
            if (word_a && std::string_view("aeiou").find(s[i + 2]) != std::string_view::npos)
                s.insert(i + 1, "n");
        }
    }

    void say(const std::string& sentence_template) {
        std::string s = expand(sentence_template);
        if (s.empty()) return;
        fix_articles(s);
        const size_t first = s[0] == '"' ? 1 : 0;
        s[first] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[first])));
        if (!text_.empty()) text_ += ' ';
        text_ += s;
    }

    Rng& rng_;
    std::map<std::string, std::string> b_;  // the story's bindings
    std::string text_;
};

}  // namespace

std::vector<std::string> generate_stories(uint64_t seed, int count) {
    Rng rng(seed, 2);
    std::vector<std::string> stories;
    for (int i = 0; i < count; ++i) stories.push_back(StoryWriter(rng).write());
    return stories;
}

}  // namespace ps
