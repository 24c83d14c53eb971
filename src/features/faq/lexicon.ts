/**
 * Word lists of the matcher: stop words, question words and the domain synonyms of an events and
 * community organisation, in Russian and English.
 *
 * Words are written in their ordinary form; the normaliser stems them the same way it stems the
 * questions, so one form per word usually suffices ("регистрация" also covers "регистрацию").
 * A synonym may be a phrase ("вай фай", "sign up"); phrases are matched before stop words are
 * dropped, so they may contain stop words ("how much"). A concept with `weight` below 1 counts
 * less than an ordinary word: question words tell "where" from "when" but say little about the
 * topic.
 */

/** A group of words and phrases that mean one thing to the matcher. */
export interface SynonymGroup {
  /** Name of the concept; shown in debugging output only. */
  concept: string;
  words: string[];
  /** Relative weight of the concept in scoring (default 1). */
  weight?: number;
}

/** Words that carry no topic: dropped before matching. Forms are listed because stems of such short words collide. */
export const STOP_WORDS_RU = `
а без бы был была были было быть в вам вас весь во вот все всего всем всех всю вся вы да для до его ее ей
ему если есть еще же за и из или им ими их к как ко ли либо мне меня мной мой моя мое мои моего моей моих
моим мою моем мы на нам нас не нет ни но ну о об от по под при про с со так также там те тем то тоже той только том
ту тут у уже хоть чем что чтобы чтоб эта эти это этот этом этой эту этого этим я здесь сюда туда тогда
можно нужно надо нельзя могу может можете можем смогу сможете хочу хочет хотим хотите хотел хотела хотели хотелось хочется
подскажите подскажи подсказать скажите скажи сказать расскажите расскажи пожалуйста пожалуйсто пожалуста
пж пжл пжлст плиз плз спасибо привет приветик здравствуйте здрасте здрасьте приветствую добрый доброе
ребят ребята народ друзья коллеги вопрос вопросик такой такая такое такие вообще просто короче блин
кстати слушайте извините простите чё че чо ваш ваша ваше ваши вашего вашей вашем вашу наш наша наше наши
нашего нашей свой свою своего своей свои твою твоего сам сама само сами нибудь будет будут буду бывает
уж себе себя собой он она они оно него нее них ты тебе тебя твой твоя узнать интересует интересно уточнить
ок окей ага типа вроде ладно какой какая какие какое каком какую каким какого какой-то
это всё значит именно точно прям прямо там-то ли-то чего чему
после перед через между около возле вокруг кроме вместо среди дальше потом затем снова опять сразу всегда никогда
иногда часто много мало немного чуть еще ещё также вообще-то кое какой-нибудь какие-нибудь чей чья чьи
`;

export const STOP_WORDS_EN = `
a an the and or but if of to in on at by for from with about into as is are was were be been being am
do does did doing done have has had i me my mine myself we us our you your yours he she it its they them
their this that these those there here what which how can could would should will shall may might must
please pls plz hi hello hey thanks thank so just any anyone anybody some someone somebody something anything
know tell want wanna need like get got gonna let lets s t re ve ll d m im dont don doesn isn aren cant
not no yes ok okay guys folks question also too very really then than go going out up one way
after before through between around again always never often many more most other another else still yet
already now each every both either such own same whats anymore anyway
`;

/** Question words: kept, at low weight, so "where is ..." and "when is ..." stay apart. */
const QUESTION_WORDS: SynonymGroup[] = [
  { concept: 'where', weight: 0.3, words: ['где', 'куда', 'откуда', 'where', 'wheres', 'whereabouts'] },
  { concept: 'when', weight: 0.3, words: ['когда', 'во сколько', 'до скольки', 'when', 'whens', 'what time'] },
  { concept: 'howmany', weight: 0.3, words: ['сколько', 'скока', 'скоко', 'how many', 'how long'] },
  { concept: 'who', weight: 0.3, words: ['кто', 'кому', 'кого', 'who', 'whom'] },
  { concept: 'why', weight: 0.3, words: ['почему', 'зачем', 'why'] },
];

/**
 * Light words: common verbs that say what a person wants to do but not about what ("как
 * попасть", "can I make it"). Kept at low weight, so a question made of them alone does not
 * match, and one that adds them to a topic word is not pushed under the gate as if they were
 * unknown topics.
 */
const LIGHT_WORDS: SynonymGroup[] = [
  { concept: 'go', weight: 0.3, words: ['идти', 'иду', 'идем', 'пойти', 'пойду', 'пойдем', 'пошел', 'пошла', 'попасть', 'попаду', 'ехать',
      'поехать', 'go', 'went'] },
  { concept: 'do', weight: 0.3, words: ['сделать', 'делать', 'оформить', 'оформлю', 'make', 'made'] },
  { concept: 'available', weight: 0.3, words: ['имеется', 'имеются', 'возможность', 'вариант', 'available', 'availability', 'exist', 'exists',
      'option', 'options', 'possible'] },
  { concept: 'day', weight: 0.3, words: ['сегодня', 'завтра', 'послезавтра', 'понедельник', 'вторник', 'среда', 'среду', 'четверг', 'пятница',
      'пятницу', 'суббота', 'субботу', 'воскресенье', 'выходные', 'утром', 'вечером', 'today', 'tomorrow', 'monday', 'tuesday', 'wednesday',
      'thursday', 'friday', 'saturday', 'sunday', 'weekend', 'tonight'] },
  { concept: 'get', weight: 0.3, words: ['получить', 'получу', 'получать', 'взять', 'возьму', 'брать', 'дать', 'дайте', 'давать', 'дадут',
      'дадите', 'выдают', 'выдаете', 'выдать', 'take', 'give'] },
  { concept: 'find', weight: 0.3, words: ['найти', 'найду', 'искать', 'посмотреть', 'смотреть', 'глянуть', 'find', 'look', 'see', 'watch'] },
  { concept: 'show', weight: 0.3, words: ['показать', 'покажите', 'показывать', 'предъявить', 'show'] },
  { concept: 'use', weight: 0.3, words: ['использовать', 'пользоваться', 'use', 'using'] },
  { concept: 'stop', weight: 0.3, words: ['хватит', 'перестаньте', 'прекратите', 'stop', 'quit'] },
  { concept: 'work', weight: 0.3, words: ['работает', 'работать', 'работают', 'work', 'works', 'working'] },
];

/** Domain synonyms of an events and community organisation. */
const DOMAIN: SynonymGroup[] = [
  { concept: 'wifi', words: ['wifi', 'wi fi', 'вайфай', 'вай фай', 'вифи', 'интернет', 'internet', 'wlan', 'wireless'] },
  { concept: 'password', words: ['пароль', 'password', 'pass word', 'пасс'] },
  {
    concept: 'event',
    words: ['мероприятие', 'ивент', 'событие', 'семинар', 'лекция', 'конференция', 'конфа', 'митап', 'воркшоп', 'мастер класс',
      'хакатон', 'event', 'meetup', 'seminar', 'lecture', 'conference', 'workshop', 'hackathon', 'session'],
  },
  {
    concept: 'register',
    words: ['регистрация', 'зарегистрироваться', 'регистрироваться', 'регистрируюсь', 'записаться', 'записываться', 'запишите', 'зарегаться',
      'зарегиться', 'регаться', 'рега', 'регистрацию', 'register', 'registration', 'sign up', 'sign me up', 'signup', 'enroll', 'enrol'],
  },
  { concept: 'talk', words: ['доклад', 'talk', 'talks'] },
  { concept: 'cancel', words: ['отменить', 'отмена', 'отказаться', 'отписаться от мероприятия', 'снять регистрацию', 'снимите регистрацию', 'снимите меня', 'передумал', 'передумала', 'передумать',
      'не смогу прийти', 'не смогу', 'не получится', 'не приду', 'не пойду', 'не успеваю', 'can t come', 'cannot come', 'can t make it',
      'cannot make it', 'cannot attend', 'can t attend', 'won t be able', 'cancel', 'cancellation', 'withdraw'] },
  { concept: 'deadline', words: ['дедлайн', 'крайний срок', 'до какого числа', 'до когда', 'успеть', 'успею', 'поздно', 'deadline', 'last day', 'too late'] },
  { concept: 'money', words: ['деньги', 'денег', 'средства', 'money', 'cash'] },
  { concept: 'card', words: ['карта', 'картой', 'сбп', 'card', 'apple pay'] },
  { concept: 'included', words: ['включено', 'включен', 'included', 'include', 'includes'] },
  { concept: 'allowed', words: ['пускают', 'пустят', 'пустите', 'впустят', 'разрешено', 'разрешают', 'allowed', 'allow', 'let in', 'permitted'] },
  { concept: 'connect', words: ['подключиться', 'подключить', 'соединить', 'соедините', 'connect', 'connected'] },
  { concept: 'end', words: ['заканчивается', 'закончится', 'закрывается', 'закроется', 'конец', 'окончание', 'длится', 'длиться',
      'закрыли', 'закрыта', 'закрыто', 'закроют', 'end', 'ends', 'finish', 'finishes', 'close', 'closes', 'closed'] },
  { concept: 'time', words: ['время', 'времени', 'time'] },
  { concept: 'send', weight: 0.5, words: ['прислать', 'пришлют', 'пришлите', 'скинуть', 'скиньте', 'скинете', 'присылать', 'присылают', 'слать', 'отправить', 'отправят',
      'придет', 'пришел', 'пришло', 'send', 'sent', 'arrive', 'receive', 'get sent'] },
  { concept: 'mistake', words: ['ошибка', 'ошибся', 'ошиблась', 'ошибкой', 'опечатка', 'неправильно', 'не ту', 'не тот', 'не та', 'mistake', 'typo', 'wrong', 'misspelled'] },
  { concept: 'other-person', words: ['друг', 'подруга', 'коллега', 'другой человек', 'чужой', 'friend', 'colleague', 'someone else'] },
  { concept: 'scan', words: ['сканировать', 'отсканировать', 'сканер', 'scan', 'scanner'] },
  { concept: 'participate', words: ['принять участие', 'участие', 'участвовать', 'участник', 'присоединиться', 'participate', 'participation', 'participant',
      'attend', 'attendance', 'attendee', 'join'] },
  { concept: 'ticket', words: ['билет', 'билетик', 'проходка', 'ticket', 'tickets'] },
  { concept: 'buy', words: ['купить', 'приобрести', 'покупка', 'оплатить', 'оплата', 'buy', 'purchase', 'pay', 'payment'] },
  { concept: 'cost', words: ['цена', 'стоимость', 'стоит', 'сколько стоит', 'бесплатно', 'бесплатный', 'платно', 'платный', 'price', 'cost',
      'how much', 'fee', 'free', 'paid'] },
  { concept: 'refund', words: ['возврат', 'вернуть', 'вернуть деньги', 'сдать билет', 'refund', 'money back', 'reimburse'] },
  { concept: 'certificate', words: ['сертификат', 'серт', 'сертификатик', 'certificate', 'cert'] },
  { concept: 'slides', words: ['материалы', 'презентация', 'слайды', 'слайд', 'презы', 'преза', 'slides', 'slide', 'presentation', 'deck', 'materials'] },
  { concept: 'video', words: ['видео', 'видеозапись', 'запись доклада', 'запись лекции', 'записи докладов', 'recording', 'recordings', 'video', 'videos'] },
  { concept: 'parking', words: ['парковка', 'парковаться', 'припарковаться', 'припарковать', 'стоянка', 'паркинг', 'parking', 'park', 'car park'] },
  { concept: 'car', words: ['машина', 'автомобиль', 'авто', 'тачка', 'car', 'vehicle'] },
  { concept: 'venue', words: ['площадка', 'место проведения', 'локация', 'venue', 'location'] },
  { concept: 'address', words: ['адрес', 'address'] },
  { concept: 'directions', words: ['добраться', 'доехать', 'дойти', 'проехать', 'пройти до', 'маршрут', 'directions', 'route', 'get there', 'get to',
      'далеко', 'пешком', 'how far', 'walk'] },
  { concept: 'transport', words: ['метро', 'автобус', 'транспорт', 'трамвай', 'metro', 'subway', 'underground', 'bus', 'transport', 'tram'] },
  { concept: 'schedule', words: ['расписание', 'программа', 'тайминг', 'агенда', 'schedule', 'programme', 'program', 'agenda', 'timetable'] },
  { concept: 'start', words: ['начало', 'начинается', 'начнется', 'начать', 'старт', 'стартует', 'start', 'starts', 'begin', 'begins'] },
  { concept: 'food', words: ['еда', 'питание', 'обед', 'кофе брейк', 'кофебрейк', 'перекус', 'покушать', 'поесть', 'кормить', 'кормят',
      'кофе', 'food', 'lunch', 'catering', 'meal', 'meals', 'coffee break', 'coffee', 'snacks', 'eat'] },
  { concept: 'diet', words: ['вегетарианский', 'веган', 'аллергия', 'халяль', 'vegetarian', 'vegan', 'allergy', 'halal', 'gluten'] },
  { concept: 'accessibility', words: ['доступность', 'коляска', 'колясочник', 'пандус', 'лифт', 'инвалид', 'овз', 'wheelchair', 'accessible',
      'accessibility', 'ramp', 'elevator', 'lift', 'disability', 'disabled'] },
  { concept: 'organizer', words: ['организатор', 'организаторы', 'орги', 'оргкомитет', 'organizer', 'organiser', 'organizers', 'organisers'] },
  { concept: 'contact', words: ['связаться', 'контакт', 'контакты', 'написать', 'contact', 'contacts', 'reach', 'write to'] },
  { concept: 'qr', words: ['qr', 'qr код', 'кьюар', 'куар', 'куар код', 'кьюар код', 'куаркод', 'qrcode', 'qr code'] },
  { concept: 'exchange', words: ['обменяться', 'обмен', 'обменять', 'exchange', 'swap'] },
  { concept: 'human', words: ['оператор', 'живой человек', 'человек', 'поддержка', 'саппорт', 'operator', 'human', 'person', 'agent', 'support'] },
  { concept: 'speaker', words: ['спикер', 'докладчик', 'выступить', 'выступать', 'выступление', 'speaker', 'speak'] },
  { concept: 'volunteer', words: ['волонтер', 'волонтерить', 'волонтерство', 'волонтером', 'volunteer', 'volunteering'] },
  { concept: 'partner', words: ['партнер', 'спонсор', 'спонсорство', 'партнерство', 'sponsor', 'partner', 'sponsorship', 'partnership'] },
  { concept: 'children', words: ['дети', 'ребенок', 'детьми', 'ребенком', 'детей', 'сын', 'дочь', 'kids', 'kid', 'children', 'child', 'son', 'daughter'] },
  { concept: 'age', words: ['возраст', 'лет', 'age', 'years old'] },
  { concept: 'cloakroom', words: ['гардероб', 'раздевалка', 'верхняя одежда', 'куртка', 'пальто', 'cloakroom', 'wardrobe', 'coat check', 'coat', 'jacket'] },
  { concept: 'luggage', words: ['багаж', 'чемодан', 'рюкзак', 'вещи', 'luggage', 'baggage', 'suitcase', 'bag', 'backpack'] },
  { concept: 'lost', words: ['потерял', 'потеряла', 'потерять', 'потеряшки', 'бюро находок', 'lost', 'lose', 'lost and found'] },
  { concept: 'photos', words: ['фото', 'фотографии', 'фотки', 'фоточки', 'снимки', 'фотограф', 'photos', 'photo', 'pictures', 'pics', 'photographer'] },
  { concept: 'dress', words: ['дресс код', 'дресскод', 'одеться', 'надеть', 'одежда', 'dress code', 'dresscode', 'wear', 'dress', 'outfit'] },
  { concept: 'language', words: ['язык', 'языке', 'перевод', 'синхронный перевод', 'language', 'translation', 'interpreter'] },
  { concept: 'unsubscribe', words: ['отписаться', 'отписка', 'отпишите', 'отпишись', 'отключить', 'выключить', 'уберите рассылку', 'unsubscribe', 'opt out', 'stop sending', 'turn off'] },
  { concept: 'mailing', words: ['рассылка', 'уведомления', 'спам', 'newsletter', 'notifications', 'spam'] },
  { concept: 'link', words: ['привязать', 'объединить', 'link', 'merge'] },
  { concept: 'account', words: ['аккаунт', 'профиль', 'учетная запись', 'account', 'profile'] },
  { concept: 'telegram', words: ['телеграм', 'телеграмм', 'телега', 'тг', 'telegram', 'tg'] },
  { concept: 'vk', words: ['вконтакте', 'вк', 'vk', 'vkontakte'] },
  { concept: 'invoice', words: ['счет', 'закрывающие документы', 'акт', 'бухгалтерия', 'бухгалтерии', 'invoice', 'bank transfer', 'безнал', 'безналичный'] },
  { concept: 'company', words: ['юрлицо', 'юридическое лицо', 'юр лицо', 'юр лица', 'компания', 'организация', 'company', 'legal entity', 'employer'] },
  { concept: 'discount', words: ['скидка', 'промокод', 'промо код', 'скидочка', 'discount', 'promo code', 'promocode', 'coupon'] },
  { concept: 'student', words: ['студент', 'студенческий', 'студентам', 'student', 'students'] },
  { concept: 'hotel', words: ['гостиница', 'отель', 'жилье', 'проживание', 'переночевать', 'остановиться', 'хостел', 'hotel', 'hostel', 'accommodation', 'lodging'] },
  { concept: 'smoking', words: ['курить', 'покурить', 'курилка', 'курение', 'smoke', 'smoking', 'vape', 'вейп'] },
  { concept: 'charging', words: ['зарядить', 'зарядка', 'розетка', 'зарядник', 'charge', 'charger', 'charging', 'socket', 'outlet', 'power bank'] },
  { concept: 'toilet', words: ['туалет', 'уборная', 'wc', 'toilet', 'restroom', 'bathroom', 'restrooms'] },
  { concept: 'party', words: ['афтепати', 'афтерпати', 'нетворкинг', 'тусовка', 'вечеринка', 'afterparty', 'after party', 'party', 'networking'] },
  { concept: 'feedback', words: ['отзыв', 'обратная связь', 'фидбек', 'фидбэк', 'оценить', 'опрос', 'feedback', 'survey', 'review'] },
  { concept: 'upcoming', words: ['следующие', 'будущие', 'анонс', 'календарь', 'скоро', 'upcoming', 'next', 'calendar', 'future', 'soon',
      'coming up', 'coming soon'] },
  { concept: 'community', words: ['сообщество', 'комьюнити', 'чат', 'community', 'chat', 'group chat'] },
  { concept: 'checkin', words: ['вход', 'пропуск', 'бейдж', 'бейджик', 'check in', 'checkin', 'get in', 'entrance', 'entry', 'badge'] },
  { concept: 'document', words: ['паспорт', 'документ', 'удостоверение', 'passport', 'id', 'id card', 'document'] },
  { concept: 'online', words: ['онлайн', 'трансляция', 'стрим', 'дистанционно', 'удаленно', 'онлайн трансляция', 'online', 'livestream', 'live stream',
      'stream', 'streaming', 'remote', 'remotely'] },
  { concept: 'change', words: ['изменить', 'поменять', 'исправить', 'редактировать', 'change', 'edit', 'update', 'correct', 'fix'] },
  { concept: 'name', words: ['имя', 'фамилия', 'фио', 'name', 'surname'] },
  { concept: 'email', words: ['email', 'e mail', 'почта', 'емейл', 'имейл', 'мейл', 'mail'] },
  { concept: 'transfer', words: ['передать', 'переоформить', 'отдать', 'transfer', 'give away'] },
  { concept: 'come', words: ['прийти', 'приходить', 'приду', 'прийду', 'come'] },
];

/** The built-in synonym groups: question words and the events-and-community domain. */
export const DEFAULT_SYNONYMS: readonly SynonymGroup[] = [...QUESTION_WORDS, ...LIGHT_WORDS, ...DOMAIN];

/** Greetings and politeness phrases that would otherwise leave a content word behind ("добрый день"). */
export const DROP_PHRASES = ['добрый день', 'добрый вечер', 'доброе утро', 'хорошего дня', 'good morning', 'good afternoon',
  'good evening', 'thank you', 'в общем', 'как бы', 'by the way', 'do you know', 'i wonder', 'i would like', 'i d like'];
